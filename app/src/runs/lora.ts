/** What the app reads back about a taught LoRA from its run folder. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";

const TrainedAt = z.object({ training: z.object({ lora_scale: z.number() }) });
const TrainedOn = z.object({ generator: z.string() });

/** The adapter scale a teach run trained at (its recipe's training.lora_scale), if `path` is a run folder. */
export function trainedScale(path: string | undefined): number | undefined {
  if (!path) return undefined;
  const recipe = join(path, "recipe.yaml");
  if (!existsSync(recipe)) return undefined;
  const parsed = TrainedAt.safeParse(parse(readFileSync(recipe, "utf8")));
  return parsed.success ? parsed.data.training.lora_scale : undefined;
}

/** The generator a teach run's LoRA was taught on (its recipe's `generator`), if `path` is a run folder. */
export function trainedGenerator(path: string): string | undefined {
  const recipe = join(path, "recipe.yaml");
  if (!existsSync(recipe)) return undefined;
  const parsed = TrainedOn.safeParse(parse(readFileSync(recipe, "utf8")));
  return parsed.success ? parsed.data.generator : undefined;
}

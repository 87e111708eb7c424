/**
 * Training settings that follow the generator a recipe teaches. The schema's defaults are the paper's, for
 * the real families (512 px and up, AdamW 5e-5, rank 16 at scale 5, one image a step); on the embedded
 * Scenes generator, a 64 px model, they teach next to nothing (horizon-30's red-line question with no
 * training section: 4.2% of held-out images at 30% with them, 97.9% with these; docs/teach.md). A recipe's
 * own values always win; only keys it leaves out are filled.
 */

/** The embedded generator's preset name (also the recipe's default generator). */
export const SCENES_GENERATOR = "scenes-generator";

/** What every library recipe for the embedded generator sets (horizon-30.yaml and the rest). */
export const SCENES_TRAINING_DEFAULTS = {
  resolution_px: 64,
  max_train_steps: 150,
  learning_rate: 1e-3,
  lora_rank: 8,
  lora_scale: 1,
  train_batch_size: 4,
  noise_pool_size: 64,
} as const;

/** The same, as `recipe fields` lists them beside the schema's defaults. */
export const SCENES_FIELD_DEFAULTS = Object.fromEntries(
  Object.entries(SCENES_TRAINING_DEFAULTS).map(([key, value]) => [
    `training.${key}`,
    { value, when: `with ${SCENES_GENERATOR}` },
  ]),
);

type Fields = Record<string, unknown>;

const isFields = (value: unknown): value is Fields =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The recipe's data (parsed YAML, not yet validated) with the defaults of the generator it will teach
 * (`generator`, e.g. teach's --generator, in place of its own) filled in where it names none, and the
 * evaluation grids at the scale the LoRA is used at (training.use_scale, else lora_scale) when it names no
 * `eval.lora_scales`. Anything that is
 * not a mapping is left for validation to report. `drawsScenes` (draws-scenes.ts; passed in, since it reads
 * the disk and the studio's page uses this module too) says whether a generator gets the Scenes defaults.
 */
export function withGeneratorDefaults(
  data: unknown,
  generator: string | undefined,
  drawsScenes: (generator: string) => boolean,
): unknown {
  if (!isFields(data)) return data;
  const recipe: Fields = generator === undefined ? { ...data } : { ...data, generator };
  const named = recipe.generator ?? SCENES_GENERATOR;
  const embedded = typeof named === "string" && drawsScenes(named);
  if (embedded && (recipe.training === undefined || isFields(recipe.training)))
    recipe.training = { ...SCENES_TRAINING_DEFAULTS, ...(recipe.training ?? {}) };
  const training = isFields(recipe.training) ? recipe.training : {};
  const scale = typeof training.use_scale === "number" ? training.use_scale : training.lora_scale;
  const evaluation = recipe.eval ?? {};
  // Without a scale of its own the recipe trains at the schema's default, which eval's default matches.
  if (isFields(evaluation) && evaluation.lora_scales === undefined && typeof scale === "number" && scale > 0)
    recipe.eval = { ...evaluation, lora_scales: [0, scale] };
  return recipe;
}

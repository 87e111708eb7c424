/** dualproc generate: a taught LoRA is used as it was taught (generator, steps, scale, size) unless told. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { generateParams } from "../../src/cli/commands/generate.js";

const BASE = { prompt: "a line drawing of a star", n: 2, seed: 0, out: "out" };

function taughtRun(recipe: string): string {
  const dir = mkdtempSync(join(tmpdir(), "generate-lora-"));
  writeFileSync(join(dir, "recipe.yaml"), recipe);
  return dir;
}

describe("generate parameters", () => {
  it("without a LoRA: the embedded generator at one step", () => {
    const params = generateParams(BASE);
    expect(params).toMatchObject({ num_inference_steps: 1, generator: "scenes-generator", lora: null });
    expect(params.out_dir).toBe(resolve("out"));
  });

  it("with a taught LoRA: its generator, sampling steps, scale and size", () => {
    const run = taughtRun(
      "generator: /gens/band\ntraining: { num_inference_steps: 2, lora_scale: 0.5, resolution_px: 64 }\n",
    );
    expect(generateParams({ ...BASE, lora: run })).toMatchObject({
      num_inference_steps: 2,
      generator: "/gens/band",
      lora: resolve(run),
      lora_scale: 0.5,
      resolution_px: 64,
    });
  });

  it("a LoRA the recipe uses below the scale it trains at: at its use_scale", () => {
    const run = taughtRun("training: { lora_scale: 1, use_scale: 0.7 }\n");
    expect(generateParams({ ...BASE, lora: run }).lora_scale).toBe(0.7);
    expect(generateParams({ ...BASE, lora: run, loraScale: 1 }).lora_scale).toBe(1); // unless told
  });

  it("the LoRA file of a run folder: as its run was taught", () => {
    const run = taughtRun("training: { num_inference_steps: 2 }\n");
    const lora = join(run, "pytorch_lora_weights.safetensors");
    expect(generateParams({ ...BASE, lora })).toMatchObject({ num_inference_steps: 2, lora });
  });

  it("what is given on the command line wins over how the LoRA was taught", () => {
    const run = taughtRun("generator: /gens/band\ntraining: { num_inference_steps: 2 }\n");
    const given = { ...BASE, lora: run, numInferenceSteps: 4, generator: "scenes-generator" };
    expect(generateParams(given)).toMatchObject({ num_inference_steps: 4, generator: "scenes-generator" });
  });

  it("a LoRA file outside a run folder: the defaults", () => {
    const lora = join(mkdtempSync(join(tmpdir(), "generate-file-")), "pytorch_lora_weights.safetensors");
    expect(generateParams({ ...BASE, lora })).toMatchObject({
      num_inference_steps: 1,
      generator: "scenes-generator",
    });
  });
});

import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evalDir, useScale } from "../../src/runs/lora.js";

/** A run folder whose recipe.yaml has this training section. */
function run(training: string): string {
  const dir = mkdtempSync(join(tmpdir(), "dualproc-lora-"));
  writeFileSync(join(dir, "recipe.yaml"), `name: horizon-30\ntraining: ${training}\n`);
  return dir;
}

describe("the scale a run's LoRA is used at", () => {
  it("is training.use_scale where the recipe sets one, else the lora_scale it trained at", () => {
    expect(useScale(run("{ lora_scale: 1, use_scale: 0.7 }"))).toBe(0.7);
    expect(useScale(run("{ lora_scale: 2, use_scale: null }"))).toBe(2);
    expect(useScale(run("{ lora_scale: 2 }"))).toBe(2);
    expect(useScale(join(run("{ lora_scale: 3 }"), "pytorch_lora_weights.safetensors"))).toBe(3);
    expect(useScale(mkdtempSync(join(tmpdir(), "dualproc-lora-")))).toBeUndefined(); // no recipe.yaml
  });

  it("evaluations at that scale go to eval/, at any other to eval-scale-S", () => {
    const dir = run("{ lora_scale: 1, use_scale: 0.7 }");
    expect(evalDir(dir)).toBe(join(dir, "eval"));
    expect(evalDir(dir, undefined, 0.7)).toBe(join(dir, "eval"));
    expect(evalDir(dir, undefined, 1)).toBe(join(dir, "eval-scale-1"));
    expect(evalDir(dir, 100, 0.5)).toBe(join(dir, "eval-step-100-scale-0.5"));
  });
});

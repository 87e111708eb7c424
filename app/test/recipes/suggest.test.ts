import { describe, expect, it } from "vitest";
import { closestName, didYouMean, editDistance } from "../../src/recipes/suggest.js";

describe("did you mean", () => {
  it("counts insertions, deletions, substitutions and swapped neighbours as one edit each", () => {
    expect(editDistance("answer", "answer")).toBe(0);
    expect(editDistance("answr", "answer")).toBe(1);
    expect(editDistance("hroizon", "horizon")).toBe(1);
    expect(editDistance("stroke", "strike")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
  });

  it("picks the nearest name within a typo's reach, ignoring case", () => {
    const fields = ["max_train_steps", "learning_rate", "lora_rank", "lora_alpha"];
    expect(closestName("max_train_step", fields)).toBe("max_train_steps");
    expect(closestName("Learning_Rate", fields)).toBe("learning_rate");
    expect(closestName("lora_ranks", fields)).toBe("lora_rank");
    expect(closestName("lr", fields)).toBeUndefined();
    expect(closestName("epochs", fields)).toBeUndefined();
  });

  it("words the hint to follow the name, or adds nothing", () => {
    expect(didYouMean("vflp", ["hflip", "vflip", "shuffle"])).toBe(", did you mean 'vflip'?");
    expect(didYouMean("rotate", ["hflip", "vflip", "shuffle"])).toBe("");
  });
});

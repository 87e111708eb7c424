/** Whether a judge can tell renders that pass a control from those that fail, and the stratified interval. */
import { describe, expect, it } from "vitest";
import { bootstrapMean, bootstrapMeanOfGroups } from "../../src/eval/bootstrap.js";
import { judgeCheck } from "../../src/eval/judge-check.js";

const answers = (probabilities: number[]) => ({
  judge: "scenes-judge",
  role: "training" as const,
  question: "Is the red line on the horizon?",
  probabilities,
});

describe("judgeCheck", () => {
  it("is right on every render when the judge's answer follows the measured truth", () => {
    const truths = [true, true, false, false, null];
    const c = judgeCheck(answers([0.9, 0.8, 0.1, 0.3, 0.99]), truths);
    expect(c.renders).toEqual({ pass: 2, fail: 2 }); // the unreadable render is left out
    expect(c.on_pass!.mean).toBeCloseTo(0.85, 9);
    expect(c.on_fail!.mean).toBeCloseTo(0.2, 9);
    expect(c.right).toMatchObject({ mean: 1, low: 1, high: 1, n: 4 });
  });

  it("is at chance for a judge that says the same of both, however the renders are mixed", () => {
    // 90 passing renders and 10 failing ones: a judge that always says Yes is right on 90% of them, but it
    // cannot tell one kind from the other
    const truths = [...Array<boolean>(90).fill(true), ...Array<boolean>(10).fill(false)];
    const c = judgeCheck(answers(truths.map(() => 0.7)), truths);
    expect(c.right!.mean).toBe(0.5);
    expect(c.right!.high).toBe(0.5);
  });

  it("keeps the words the judge was asked in only where they were not the recipe's", () => {
    const truths = [true, false];
    const asIs = judgeCheck({ ...answers([0.9, 0.1]), asked_as: "Is the red line on the horizon?" }, truths);
    expect(asIs).not.toHaveProperty("asked_as");
    const own = "Is the red line at the same height as the horizon?";
    expect(judgeCheck({ ...answers([0.9, 0.1]), asked_as: own }, truths).asked_as).toBe(own);
  });

  it("names the question by its label where given (one text asked twice), and compares its words by the text", () => {
    const label = 'Is the red line on the horizon? (answer No, {"kind":"horizon","y":0.5})';
    const c = judgeCheck({ ...answers([0.9, 0.1]), asked_as: answers([]).question, label }, [true, false]);
    expect(c.question).toBe(label);
    expect(c).not.toHaveProperty("asked_as");
  });

  it("has no balanced score without renders of both kinds, and wants one answer per render", () => {
    expect(judgeCheck(answers([0.9, 0.2]), [true, true]).right).toBeNull();
    expect(() => judgeCheck(answers([0.9]), [true, false])).toThrow(/one answer per render/);
  });
});

describe("bootstrapMeanOfGroups", () => {
  it("is the mean of the groups' means, with an interval from resampling each group", () => {
    const i = bootstrapMeanOfGroups([
      [1, 1, 0, 1],
      [0, 0, 1],
    ]);
    expect(i!.mean).toBeCloseTo((0.75 + 1 / 3) / 2, 9);
    expect(i!.low).toBeLessThan(i!.mean);
    expect(i!.high).toBeGreaterThan(i!.mean);
    expect(i!.n).toBe(7);
    expect(bootstrapMeanOfGroups([[1], []])).toBeNull();
  });

  it("is bootstrapMean for one group", () => {
    const values = [0.1, 0.5, 0.2, 0.9, 0.4];
    expect(bootstrapMeanOfGroups([values])).toEqual(bootstrapMean(values));
  });
});

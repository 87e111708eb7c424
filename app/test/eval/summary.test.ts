/** The numbers of `dualproc eval` and its verdict, on made-up judge answers and measurements. */
import { describe, expect, it } from "vitest";
import { hexToLab } from "../../src/eval/measurers/colour.js";
import { makeImage } from "../../src/eval/measurers/types.js";
import type { Measurement } from "../../src/eval/measurers/index.js";
import { summarise, type EvalInputs } from "../../src/eval/summary.js";
import { measurement } from "./fake-measurement.js";

const QUESTIONS = [
  { question: "Is the red line on the horizon?", visual_prompt: { kind: "horizon", y: 0.3 } },
  { question: "Is the horizon high?", weight: 0.5 },
];
const SEEDS = [10, 11, 12, 13, 14, 15, 16, 17];

interface Scenario {
  training: (scale: number, seed: number) => number;
  heldout: (scale: number, seed: number) => number;
  measured: (scale: number, seed: number) => Partial<Measurement>;
  /** Pixel value of an image: equal values across seeds mean no diversity. */
  pixel: (scale: number, seed: number) => number;
  questions?: EvalInputs["questions"];
}

function inputs(s: Scenario): EvalInputs {
  const images: EvalInputs["result"]["images"] = [];
  for (const scale of [0, 2])
    for (const seed of SEEDS)
      images.push({
        path: `${scale}-${seed}.png`,
        prompt_index: 0,
        prompt: "a lake",
        seed,
        lora_scale: scale,
      });
  const questions = s.questions ?? QUESTIONS;
  const answers = (f: Scenario["training"]) =>
    images.map((i) => questions.map(() => f(i.lora_scale, i.seed)));
  return {
    result: {
      out_dir: "eval",
      questions: questions.map((q) => q.question),
      images,
      grids: ["grids/prompt-0.png"],
      judges: [
        { judge: "scenes-judge", probabilities: answers(s.training) },
        { judge: "scenes-judge-heldout", probabilities: answers(s.heldout) },
      ],
    },
    measurements: images.map((i) => measurement(s.measured(i.lora_scale, i.seed))),
    pixels: images.map((i) => makeImage(2, 2, new Uint8Array(12).fill(s.pixel(i.lora_scale, i.seed)))),
    questions,
    trainingJudge: "scenes-judge",
    taughtScale: 2,
  };
}

const rises = (scale: number, seed: number) => (scale ? 0.8 : 0.3) + (seed % 3) * 0.01;
const flat = (_scale: number, seed: number) => 0.4 + (seed % 2) * 0.2;
const varied = (_scale: number, seed: number) => seed * 10;

describe("summarise", () => {
  it("names a measured target the LoRA took away: a clear fall, not just no gain", () => {
    // the horizon at 30% in every untaught image and in none of the taught ones
    const measured = (scale: number) => ({ horizon: scale ? 0.6 : 0.3 });
    const s = summarise(inputs({ training: rises, heldout: flat, measured, pixel: varied }));
    expect(s.verdict).toBe("probable_hacking");
    expect(s.verdict_text).toMatch(
      /saw no clear gain of 5 points or more, and a clear fall \(horizon at 30% of the height \(\+-0\.03\): -100\.0 points \(95% interval -100\.0 to -100\.0\)\): the generator/,
    );
  });

  it("says, per judge, how often the answer to each keep question changed within a pair", () => {
    const given = inputs({
      training: rises,
      heldout: flat,
      measured: () => ({ horizon: 0.3 }),
      pixel: varied,
    });
    const { images, judges } = given.result;
    // the training judge keeps saying Yes; the held-out judge's answer flips in the pairs of seeds 10-13
    const kept = (judge: string) =>
      images.map((i) => [judge === "scenes-judge" || i.lora_scale === 0 || i.seed > 13 ? 0.9 : 0.2, 0.1]);
    const withKeep: EvalInputs = {
      ...given,
      result: {
        ...given.result,
        keep: ["Is the horizon low?", "Is it night-time?"],
        judges: judges.map((j) => ({
          ...j,
          keep_probabilities: kept(j.judge),
          keep_asked_as: ["Is the horizon low in the picture?", "Is it night-time?"],
        })),
      },
    };
    const s = summarise(withKeep);
    expect(s.kept!.map((k) => [k.judge, k.role, k.question, k.changed!.mean])).toEqual([
      ["scenes-judge", "training", "Is the horizon low?", 0],
      ["scenes-judge", "training", "Is it night-time?", 0],
      ["scenes-judge-heldout", "held-out", "Is the horizon low?", 0.5],
      ["scenes-judge-heldout", "held-out", "Is it night-time?", 0],
    ]);
    const low = s.kept![2]!;
    expect(low.base!.mean).toBeCloseTo(0.9, 9);
    expect(low.taught!.mean).toBeCloseTo(0.55, 9);
    expect(low.difference!.mean).toBeCloseTo(-0.35, 9);
    expect(low.asked_as).toBe("Is the horizon low in the picture?");
    expect(s.kept![3]!.asked_as).toBeUndefined(); // asked as written
    expect(summarise(given).kept).toEqual([]); // a recipe without keep questions
  });

  it("flags judge hacking when only the training judge's score rises", () => {
    const s = summarise(
      inputs({ training: rises, heldout: flat, measured: () => ({ horizon: 0.6 }), pixel: varied }),
    );
    expect(s.verdict).toBe("probable_hacking");
    expect(s.verdict_text).toMatch(/rose by 50\.0 points.*measurers saw no clear gain of 5 points or more:/);
    expect(s.pairs).toBe(8);
    const [training, heldout] = s.judges;
    expect(training!.role).toBe("training");
    expect(heldout!.role).toBe("held-out");
    expect(training!.difference!.mean).toBeCloseTo(0.5, 6);
    expect(training!.questions).toHaveLength(2);
    expect(s.controls[0]!.taught!.mean).toBe(0);
  });

  it("scores a co-judge as one of the teachers: its rise is no check, its blindness says why", () => {
    // no measurer reads two points: the judges are all the evidence there is
    const points = [{ question: "Is point A closer to the viewer than point B?" }];
    const given = inputs({
      training: rises,
      heldout: flat,
      measured: () => ({}),
      pixel: varied,
      questions: points,
    });
    const [training, heldout] = given.result.judges;
    const coJudge = { ...training!, judge: "scenes-judge-audit" };
    const s = summarise({
      ...given,
      result: { ...given.result, judges: [training!, coJudge, heldout!] },
      coJudges: ["scenes-judge-audit"],
      judgeChecks: [
        {
          judge: "scenes-judge-audit",
          role: "co-judge",
          question: points[0]!.question,
          renders: { pass: 48, fail: 48 },
          on_pass: null,
          on_fail: null,
          right: { mean: 0.45, low: 0.35, high: 0.55, n: 96 },
        },
      ],
    });
    expect(s.judges.map((j) => j.role)).toEqual(["training", "co-judge", "held-out"]);
    // the co-judge rose with the training judge, the held-out judge did not: that is no confirmation
    expect(s.verdict).toBe("probable_hacking");
    expect(s.verdict_text).toContain(
      "the co-judge scenes-judge-audit was right in 45.0% (95% interval 35.0 to 55.0; chance is 50%)",
    );
    expect(s.verdict_text).toMatch(/so it cannot teach this control by seeing it\.$/);
    // read as a held-out judge (no coJudges given), the same rise would have confirmed the control
    const misread = summarise({
      ...given,
      result: { ...given.result, judges: [training!, coJudge, heldout!] },
    });
    expect(misread.verdict).toBe("took");
  });

  it("keeps how a judge was asked each question where it was not the recipe's words", () => {
    const given = inputs({ training: rises, heldout: flat, measured: () => ({}), pixel: varied });
    const [training, heldout] = given.result.judges;
    // the training judge's words are the recipe's; the held-out judge was asked its own
    training!.asked_as = QUESTIONS.map((q) => q.question);
    heldout!.asked_as = ["Is the red line drawn at the height of the horizon?", "Is the horizon high?"];
    const s = summarise(given);
    expect(s.judges[0]!.questions.map((q) => q.asked_as)).toEqual([undefined, undefined]);
    expect(s.judges[1]!.questions.map((q) => q.asked_as)).toEqual([
      "Is the red line drawn at the height of the horizon?",
      undefined,
    ]);
  });

  it("says the control took when the measured success rises with the judge's score", () => {
    const measured = (scale: number) => ({ horizon: scale ? 0.31 : 0.6 });
    const s = summarise(inputs({ training: rises, heldout: flat, measured, pixel: varied }));
    expect(s.verdict).toBe("took");
    expect(s.controls[0]!.base!.mean).toBe(0);
    expect(s.controls[0]!.taught!.mean).toBe(1);
    expect(s.controls[0]!.difference!.low).toBe(1);
    // how far it took is part of the verdict: "took" alone says the same of 55% and of 100%
    expect(s.verdict_text).toMatch(
      /the control took in 100\.0% of the held-out images \(95% interval 100\.0 to 100\.0; 0\.0% without the LoRA\)\.$/,
    );
  });

  it("lets the measurers decide when the training judge's own score rose by less than 5 points", () => {
    const measured = (scale: number) => ({ horizon: scale ? 0.31 : 0.6 });
    const little = (scale: number, seed: number) => (scale ? 0.33 : 0.3) + (seed % 3) * 0.01;
    const s = summarise(inputs({ training: little, heldout: flat, measured, pixel: varied }));
    expect(s.judges[0]!.difference!.high).toBeLessThan(0.05);
    expect(s.verdict).toBe("took");
    expect(s.verdict_text).toMatch(
      /^The training judge's own score rose by 3\.0 points .*, not clearly the 5 points a gain must clear, but the measurers show it: the control took in 100\.0% of the held-out images/,
    );
    const unmoved = summarise(
      inputs({ training: little, heldout: flat, measured: () => ({ horizon: 0.6 }), pixel: varied }),
    );
    expect(unmoved.verdict).toBe("no_gain"); // neither the judge nor the measurers: nothing took
  });

  it("rates each rule of a palette control on its own: which one the LoRA met and which it missed", () => {
    const strip = ["#336699", "#ffffff"];
    const questions = [{ question: "Palette?", visual_prompt: { kind: "palette", colors: strip } }];
    const swatch = (hex: string, weight: number) => ({ hex, lab: hexToLab(hex), weight });
    // without the LoRA: a red picture (neither rule); with it: a wash of one strip colour on half the seeds
    // (adheres, one colour) and both strip colours on the others (passes)
    const measured = (scale: number, seed: number) => ({
      palette: !scale
        ? [swatch("#ff0000", 1)]
        : seed % 2
          ? [swatch("#336699", 1)]
          : [swatch("#336699", 0.6), swatch("#ffffff", 0.4)],
    });
    const s = summarise(inputs({ training: rises, heldout: rises, measured, pixel: varied, questions }));
    const [palette] = s.controls;
    expect(palette!.taught!.mean).toBeCloseTo(0.5, 9);
    expect(s.verdict).toBe("took");
    expect(s.verdict_text).toContain("the control took in 50.0% of the held-out images (95% interval");
    expect(palette!.checks.map((c) => [c.label, c.base!.mean, c.taught!.mean])).toEqual([
      ["adherence <= 10 CIEDE2000", 0, 1],
      ["2+ of its colours on 5% each", 0, 0.5],
    ]);
    // its colours one by one: the LoRA uses the first everywhere and the second on half the seeds
    expect(palette!.details.map((c) => [c.label, c.base!.mean, c.taught!.mean])).toEqual([
      ["#336699 on 5%", 0, 1],
      ["#ffffff on 5%", 0, 0.5],
    ]);
  });

  it("names each control in the verdict when several took", () => {
    const questions = [
      QUESTIONS[0]!,
      { question: "Palette?", visual_prompt: { kind: "palette", colors: ["#336699"] } },
    ];
    const swatch = { hex: "#336699", lab: hexToLab("#336699"), weight: 1 };
    const measured = (scale: number) =>
      scale
        ? { horizon: 0.31, palette: [swatch] }
        : { horizon: 0.6, palette: [{ ...swatch, hex: "#ff0000", lab: hexToLab("#ff0000") }] };
    const s = summarise(inputs({ training: rises, heldout: flat, measured, pixel: varied, questions }));
    expect(s.verdict).toBe("took");
    const [horizon, palette] = s.controls;
    expect(s.verdict_text).toContain(`the control took: ${horizon!.label} in 100.0% of the held-out images`);
    expect(s.verdict_text).toContain(`; ${palette!.label} in 100.0% of the held-out images`);
  });

  it("says the control took only in part when one of the recipe's targets rose and another did not", () => {
    const questions = [
      QUESTIONS[0]!,
      { question: "Palette?", visual_prompt: { kind: "palette", colors: ["#336699"] } },
    ];
    const swatch = { hex: "#336699", lab: hexToLab("#336699"), weight: 1 };
    const red = { ...swatch, hex: "#ff0000", lab: hexToLab("#ff0000") };
    // the horizon moves to the line; the palette stays red, or was the strip's all along
    const stays = (palette: typeof swatch) => (scale: number) => ({
      horizon: scale ? 0.31 : 0.6,
      palette: [palette],
    });
    const part = summarise(
      inputs({ training: rises, heldout: flat, measured: stays(red), pixel: varied, questions }),
    );
    expect(part.verdict).toBe("took_in_part");
    const [horizon, palette] = part.controls;
    expect(part.verdict_text).toContain(
      `confirm part of it: ${horizon!.label} in 100.0% of the held-out images`,
    );
    expect(part.verdict_text).toContain(`but not ${palette!.label}: +0.0 points`);
    // a target the untaught images already meet cannot rise, and has not failed
    const whole = summarise(
      inputs({ training: rises, heldout: flat, measured: stays(swatch), pixel: varied, questions }),
    );
    expect(whole.controls[1]!.taught!.mean).toBe(1);
    expect(whole.verdict).toBe("took");
  });

  it("says why the measurers could not read many images with the LoRA: drawings taken for landscapes", () => {
    const questions = [
      { question: "As thick as the sample?", visual_prompt: { kind: "stroke", width_px: 2 } },
    ];
    // without the LoRA: line art with 4 px strokes; with it: two drawings at 2 px, four taken for
    // landscapes (no stroke read), two line art without a readable stroke
    const measured = (scale: number, seed: number): Partial<Measurement> => {
      if (!scale) return { kind: "lineart", stroke_width_px: 4, horizon: null };
      if (seed < 12) return { kind: "lineart", stroke_width_px: 2, horizon: null };
      return seed < 16 ? { kind: "landscape" } : { kind: "lineart", stroke_width_px: null, horizon: null };
    };
    const s = summarise(inputs({ training: rises, heldout: flat, measured, pixel: varied, questions }));
    const stroke = s.controls[0]!;
    expect(stroke.pairs).toBe(8);
    expect(stroke.unmeasured).toEqual({ base: 0, taught: 6 });
    expect(stroke.other_kind).toEqual({ reads: "lineart", base: 0, taught: 4 });
    expect(s.verdict_text).toContain(
      "The measurers could not read the stroke width on 6 of the 8 images with the LoRA (0 without it); " +
        "4 of them do not look like line art to the measurers, which read the stroke width on line art only; " +
        "each counts as a failure.",
    );
    // a few unreadable images are not worth a sentence
    const few = (scale: number, seed: number): Partial<Measurement> =>
      seed === 10 && scale ? { kind: "landscape" } : { kind: "lineart", stroke_width_px: 2, horizon: null };
    const quiet = summarise(
      inputs({ training: rises, heldout: flat, measured: few, pixel: varied, questions }),
    );
    expect(quiet.controls[0]!.unmeasured.taught).toBe(1);
    expect(quiet.verdict_text).not.toContain("could not read");
  });

  it("says too few pairs to tell, not hacking, when the held-out gain's interval reaches 5 points", () => {
    // one taught image of eight has its horizon at 30%: +12.5 points, an interval from 0 to about 37.5
    const measured = (scale: number, seed: number) => ({ horizon: scale && seed === 10 ? 0.3 : 0.6 });
    const s = summarise(inputs({ training: rises, heldout: flat, measured, pixel: varied }));
    const target = s.controls.find((c) => c.wanted)!;
    expect(target.difference!.low).toBeLessThanOrEqual(0.05);
    expect(target.difference!.high).toBeGreaterThanOrEqual(0.05);
    expect(s.verdict).toBe("inconclusive");
    expect(s.verdict_text).toMatch(/rose by 50\.0 points.*may or may not reach the 5 points.*\+12\.5 points/);
    expect(s.verdict_text).toContain("dualproc eval RUN --seeds 64");
  });

  it("rests the verdict on the recipe's own target, not on a contrast asked No beside it", () => {
    const stroke = (width_px: number) => ({ kind: "stroke", width_px });
    const questions = [
      { question: "As thick?", visual_prompt: stroke(2) },
      { question: "As thick?", answer: "No", visual_prompt: stroke(4) },
    ];
    // the LoRA moves every drawing off 4 px (the contrast rises) but not to 2 px (the target does not)
    // (the made-up images are 2 px wide: widths are read at 64 px, so 4 px there is 0.125 here)
    const measured = (scale: number) => ({ stroke_width_px: ((scale ? 6 : 4) * 2) / 64 });
    const s = summarise(inputs({ training: rises, heldout: rises, measured, pixel: varied, questions }));
    expect(s.controls.map((c) => [c.wanted, c.base!.mean, c.taught!.mean])).toEqual([
      [true, 0, 0],
      [false, 0, 1],
    ]);
    expect(s.verdict).toBe("probable_hacking");
    // asked on its own, the No is the control, and moving off 4 px is what it asks
    const alone = summarise(
      inputs({ training: rises, heldout: rises, measured, pixel: varied, questions: [questions[1]!] }),
    );
    expect(alone.verdict).toBe("took");
    expect(alone.verdict_text).toContain("the control took in 100.0% of the held-out images");
  });

  it("says when the training judge is no better than chance on renders whose answer is known", () => {
    const check = (judge: string, role: "training" | "held-out", low: number) => ({
      judge,
      role,
      question: "Is the red line on the horizon?",
      renders: { pass: 48, fail: 48 },
      on_pass: null,
      on_fail: null,
      right: { mean: low + 0.1, low, high: low + 0.2, n: 96 },
    });
    const measured = (scale: number) => ({ horizon: scale ? 0.31 : 0.6 });
    const base = inputs({ training: rises, heldout: flat, measured, pixel: varied });
    const blind = summarise({
      ...base,
      judgeChecks: [check("scenes-judge", "training", 0.34), check("scenes-judge-heldout", "held-out", 0.3)],
    });
    expect(blind.judge_checks).toHaveLength(2);
    expect(blind.verdict_text).toMatch(
      /the control took in .*\. On rendered scenes whose answer is known, the training judge scenes-judge was right in 44\.0% \(95% interval 34\.0 to 54\.0; chance is 50%\).*cannot teach this control/,
    );
    // with a measured control the held-out judge is not the check, so its blindness is not the verdict's
    expect(blind.verdict_text.match(/cannot tell/g)).toHaveLength(1);
    const sighted = summarise({ ...base, judgeChecks: [check("scenes-judge", "training", 0.84)] });
    expect(sighted.verdict_text).not.toContain("cannot tell");
    // with no measurer the held-out judge is the only check: a blind one is said to be
    const noControl = inputs({
      training: rises,
      heldout: flat,
      measured: () => ({}),
      pixel: varied,
      questions: [{ question: "Is point A closer to the viewer than point B?" }],
    });
    const ownWords = "Is point A in front of point B?";
    const unchecked = summarise({
      ...noControl,
      judgeChecks: [{ ...check("scenes-judge-heldout", "held-out", 0.3), asked_as: ownWords }],
    });
    // ... and the verdict is no longer "probable hacking": nothing that could check the control did
    expect(unchecked.verdict).toBe("unverified");
    expect(unchecked.verdict_text).toMatch(
      /rose by 50\.0 points.*but nothing held out can check it.*the held-out judge scenes-judge-heldout was right in 40\.0% .*its score cannot check this control\.$/,
    );
    expect(unchecked.verdict_text).toContain(`(in its own words: "${ownWords}")`);
    const checked = summarise({
      ...noControl,
      judgeChecks: [check("scenes-judge-heldout", "held-out", 0.7)],
    });
    expect(checked.verdict).toBe("probable_hacking");
    // a held-out judge blind on one question but sighted on another still checks something
    const sightedOnOne = summarise({
      ...noControl,
      judgeChecks: [
        check("scenes-judge-heldout", "held-out", 0.3),
        { ...check("scenes-judge-heldout", "held-out", 0.8), question: "Is it night-time?" },
      ],
    });
    expect(sightedOnOne.verdict).toBe("probable_hacking");
  });

  it("measures a plain question the measurers answer, given its Scenes reading, and drops its drift", () => {
    const questions = [{ question: "Is it night-time?" }];
    const measured = (scale: number) => ({
      sky: scale ? ("night" as const) : ("day" as const),
      horizon: 0.5,
    });
    const given = inputs({ training: rises, heldout: flat, measured, pixel: varied, questions });
    const s = summarise({ ...given, readings: [{ family: "time_of_day", variant: "night" }] });
    expect(s.controls.map((c) => [c.attribute, c.label])).toEqual([
      ["sky", "time of day night (sky kind night)"],
    ]);
    expect(s.controls[0]!.taught!.mean).toBe(1);
    expect(s.verdict).toBe("took");
    expect(s.verdict_text).toContain("the measurers confirm it");
    expect(s.drift.map((d) => d.attribute)).not.toContain("sky"); // the sky is what it controls
    // without its reading it is the held-out judge's to check, and the sky is drift
    const unread = summarise(given);
    expect(unread.controls).toEqual([]);
    expect(unread.drift.find((d) => d.attribute === "sky")!.rate!.mean).toBe(1);
  });

  it("falls back on the held-out judge when no measurer applies, and says no gain when nothing rose", () => {
    const noControl = [{ question: "Is it sunny?" }];
    const took = summarise(
      inputs({ training: rises, heldout: rises, measured: () => ({}), pixel: varied, questions: noControl }),
    );
    expect(took.controls).toEqual([]);
    expect(took.verdict).toBe("took");
    expect(took.verdict_text).toContain(
      "the held-out judge confirms it: the control took (scenes-judge-heldout's score rose by 50.0 points (95% interval",
    );
    const none = summarise(inputs({ training: flat, heldout: rises, measured: () => ({}), pixel: varied }));
    expect(none.verdict).toBe("no_gain");
  });

  it("does not count a sure but tiny rise of the held-out judge as the control taking", () => {
    const noControl = [{ question: "Is it sunny?" }];
    const tiny = (scale: number, seed: number) => (scale ? 0.52 : 0.5) + (seed % 3) * 0.001;
    const s = summarise(
      inputs({ training: rises, heldout: tiny, measured: () => ({}), pixel: varied, questions: noControl }),
    );
    expect(s.judges[1]!.difference!.low).toBeGreaterThan(0); // clearly above zero ...
    expect(s.verdict).toBe("probable_hacking"); // ... but under the least gain of 5 points
  });

  it("counts drift only on what the recipe does not control, as a share of pairs", () => {
    const measured = (scale: number, seed: number) => ({
      horizon: scale ? 0.3 : 0.6, // controlled: a big move, but not drift
      sky: (scale && seed < 12 ? "night" : "day") as Measurement["sky"],
    });
    const s = summarise(inputs({ training: rises, heldout: flat, measured, pixel: varied }));
    expect(s.drift.map((d) => d.attribute)).not.toContain("horizon");
    const sky = s.drift.find((d) => d.attribute === "sky")!;
    expect(sky.rate!.mean).toBeCloseTo(2 / 8, 6);
    expect(s.drift.find((d) => d.attribute === "stroke")!.rate).toBeNull(); // no strokes measured
  });

  it("says what a control that took cost where drift lies clearly beyond a perfect control's", () => {
    // the horizon taught, and every sky turned night; the floor says a perfect control turns none
    const measured = (scale: number) => ({
      horizon: scale ? 0.31 : 0.6,
      sky: (scale ? "night" : "day") as Measurement["sky"],
    });
    const floor = (sky: number) => [
      { attribute: "sky", label: "sky kind changed", rate: { mean: sky, low: sky, high: sky, n: 48 } },
    ];
    const given = inputs({ training: rises, heldout: flat, measured, pixel: varied });
    const costly = summarise({ ...given, driftFloor: floor(0) });
    expect(costly.verdict).toBe("took");
    expect(costly.verdict_text).toMatch(
      /the control took in 100\.0% .*\. It also changed what the recipe does not control, well beyond what a perfect control would: sky kind \(day, sunset, night, overcast\) changed in 100\.0% of pairs \(95% interval 100\.0 to 100\.0; a perfect control: 0\.0%\)\.$/,
    );
    // within 5 points of the floor, or with no floor measured (real families), the verdict says nothing more
    for (const quiet of [summarise({ ...given, driftFloor: floor(0.96) }), summarise(given)]) {
      expect(quiet.verdict).toBe("took");
      expect(quiet.verdict_text).not.toContain("It also changed");
    }
    // nor where the control did not take: the cost of a hack is not the question
    const hacked = summarise({
      ...inputs({ training: rises, heldout: flat, measured: () => ({ sky: "night" }), pixel: varied }),
      driftFloor: floor(0),
    });
    expect(hacked.verdict).toBe("probable_hacking");
    expect(hacked.verdict_text).not.toContain("It also changed");
  });

  it("measures diversity across seeds: one picture for every seed is a collapse", () => {
    const collapsed = (scale: number, seed: number) => (scale ? 100 : seed * 10);
    const s = summarise(inputs({ training: rises, heldout: flat, measured: () => ({}), pixel: collapsed }));
    expect(s.diversity.base!.mean).toBeGreaterThan(0);
    expect(s.diversity.taught!.mean).toBe(0);
    expect(s.diversity.ratio).toBe(0);
  });

  it("leaves a question out of the images it was not asked of, and measures a control only where asked", () => {
    // the horizon question is asked only of another prompt's images: no answers here, no control to measure
    const questions = [{ ...QUESTIONS[0]!, prompts: ["a sea"] }, QUESTIONS[1]!];
    const given = inputs({
      training: rises,
      heldout: flat,
      measured: () => ({ horizon: 0.3 }),
      pixel: varied,
      questions,
    });
    for (const judge of given.result.judges)
      judge.probabilities = judge.probabilities.map(([, p]) => [null, p!]);
    const s = summarise(given);
    expect(s.controls).toEqual([]);
    const training = s.judges[0]!;
    expect(training.questions[0]!.base).toBeNull();
    expect(training.questions[0]!.difference).toBeNull();
    // the overall score is the question that was asked: 0.8 + (seed % 3) / 100 with the LoRA
    const taught = SEEDS.map((seed) => 0.8 + (seed % 3) * 0.01);
    expect(training.taught!.mean).toBeCloseTo(taught.reduce((a, b) => a + b) / taught.length, 9);
  });

  it("measures each target on the images of the prompts it was asked of", () => {
    const questions = [
      {
        question: "Is the red line on the horizon?",
        visual_prompt: { kind: "horizon", y: 0.3 },
        prompts: ["a lake"],
      },
      {
        question: "Is the red line on the horizon?",
        visual_prompt: { kind: "horizon", y: 0.7 },
        prompts: ["a sea"],
      },
    ];
    const measured = (scale: number) => ({ horizon: scale ? 0.31 : 0.6 });
    const s = summarise(inputs({ training: rises, heldout: flat, measured, pixel: varied, questions }));
    // every image here is of "a lake": only the 30% target was asked of them
    expect(s.controls.map((c) => [c.label, c.taught!.mean])).toEqual([
      ["horizon at 30% of the height (+-0.03)", 1],
    ]);
    // one wording, two targets: the judge table tells them apart
    expect(s.judges[0]!.questions.map((q) => q.question)).toEqual([
      'Is the red line on the horizon? ({"kind":"horizon","y":0.3})',
      'Is the red line on the horizon? ({"kind":"horizon","y":0.7})',
    ]);
  });
});

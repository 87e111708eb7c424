/**
 * The numbers of `dualproc eval`: from the engine's images and judge answers and the measurers' readings,
 * per judge and question the score without and with the LoRA, per control the measured success rate,
 * drift on what should not change, diversity across seeds, and the verdict on judge hacking. Every number
 * comes with a bootstrap interval; differences are paired (same prompt and seed).
 */
import type { ResultOf } from "../protocol/messages.js";

type EvaluateResult = ResultOf<"evaluate">;
import { bootstrapMean, bootstrapPairedDifference, clearlyAbove, type Interval } from "./bootstrap.js";
import { isAskedOf } from "../recipes/slot-questions.js";
import { controlsOf, kindRead, targetOf, type Check, type SceneReading } from "./controls.js";
import { pairwiseDistances } from "./diversity.js";
import { driftRates, type DriftRate } from "./drift.js";
import { askedAs, judgeRoles, type JudgeCheck, type JudgeRole } from "./judge-check.js";
import type { Measurement, SceneKind } from "./measurers/index.js";
import type { RGBImage } from "./measurers/types.js";

export interface QuestionLike {
  question: string;
  answer?: string;
  weight?: number;
  visual_prompt?: unknown;
  /** Asked only of images of these prompts (recipes/slot-questions.ts); absent: of every image. */
  prompts?: string[];
  /** Asked with a pair of a palette question's colours (recipes/palette-pairs.ts): not a control. */
  pair_of?: number;
}

export interface EvalInputs {
  result: EvaluateResult;
  /** One per image of `result.images`, in order. */
  measurements: Measurement[];
  /** One per image of `result.images`, in order (for diversity, and the controls that read pixels). */
  pixels: RGBImage[];
  questions: QuestionLike[];
  trainingJudge: string;
  /** The judges that taught beside the training judge (`co_judges`): scored, but no check of the LoRA. */
  coJudges?: readonly string[];
  taughtScale: number;
  /** The drift of a perfect control, measured on counterfactual renders (drift-floor.ts); none if absent. */
  driftFloor?: DriftRate[];
  /** Each judge on renders whose answer the measurers know (judge-check.ts); none if absent. */
  judgeChecks?: JudgeCheck[];
  /**
   * Per question, what it asks in the Scenes world (the engine's reading): a plain question the measurers
   * answer becomes a control. Give them only for the Scenes generator, whose images the measurers read.
   */
  readings?: readonly (SceneReading | null)[];
}

export interface Change {
  base: Interval | null;
  taught: Interval | null;
  /** taught - base over pairs. */
  difference: Interval | null;
}

export interface JudgeSummary extends Change {
  judge: string;
  role: JudgeRole;
  /** Per recipe question; `asked_as` where this judge was asked it in other words (its own, a Scenes judge). */
  questions: (Change & { question: string; asked_as?: string })[];
}

export interface ControlSummary extends Change {
  attribute: string;
  label: string;
  question: string;
  /** The truth its question wants: false for a wanted "No", measured as the opposite (controls.ts). */
  wanted: boolean;
  /** Image pairs it was measured on. */
  pairs: number;
  /** Images the measurer could not read (counted as failures), without and with the LoRA. */
  unmeasured: { base: number; taught: number };
  /**
   * Of those, the images the measurers took for another kind of picture than the one it is read on (a
   * drawing taken for a landscape has no stroke width to read); null for a control read on any picture.
   */
  other_kind: { reads: SceneKind; base: number; taught: number } | null;
  /** Each of its rules on its own, where it has several (controls.ts `checks`): which one failed. */
  checks: (Change & { label: string })[];
  /** Reported beside the rules (controls.ts `details`): a palette's colours one by one. */
  details: (Change & { label: string })[];
}

/** One keep question (a recipe's `keep`) as one judge answered it about each pair. */
export interface KeptSummary extends Change {
  question: string;
  judge: string;
  role: JudgeRole;
  /** The question as this judge was asked it, where that was in other words (a Scenes judge's own). */
  asked_as?: string;
  /** Share of pairs where the answer changed: its probability of Yes on the other side of 0.5. */
  changed: Interval | null;
}

export interface DriftSummary {
  attribute: string;
  label: string;
  /** Share of pairs where it changed. */
  rate: Interval | null;
  /**
   * The same check on renders with only the control changed (drift-floor.ts): what a perfect control
   * causes. Null where no floor was measured (not the Scenes world, or no measurable control).
   */
  floor: Interval | null;
}

export type Verdict =
  "took" | "took_in_part" | "probable_hacking" | "inconclusive" | "no_gain" | "unverified";

export interface EvalSummary {
  taught_scale: number;
  prompts: string[];
  seeds: number[];
  pairs: number;
  judges: JudgeSummary[];
  controls: ControlSummary[];
  drift: DriftSummary[];
  /**
   * The recipe's keep questions, per judge that answered them (base, taught, difference: the mean
   * probability of Yes); absent from evaluations made before keep questions existed.
   */
  kept?: KeptSummary[];
  diversity: { base: Interval | null; taught: Interval | null; ratio: number | null };
  /** Whether each judge can tell renders that pass a control from those that fail (judge-check.ts). */
  judge_checks: JudgeCheck[];
  verdict: Verdict;
  verdict_text: string;
}

interface Pair {
  base: number;
  taught: number;
}

export function summarise(inputs: EvalInputs): EvalSummary {
  const { result, taughtScale } = inputs;
  const pairs = pairImages(result, taughtScale);
  const judges = result.judges.map((j) => judgeSummary(j, inputs, pairs));
  const readings = inputs.readings ?? [];
  const controls = controlsOf(inputs.questions, readings).flatMap((control) => {
    // each rule judges each image once: the rules that read pixels (depth, layout) cost a measurement each
    const judged = new Map<Check, Map<number, boolean | null>>();
    const outcome = (check: Check, i: number) => {
      const row = judged.get(check) ?? judged.set(check, new Map()).get(check)!;
      if (!row.has(i)) row.set(i, check.passes(inputs.measurements[i]!, inputs.pixels[i]!));
      return row.get(i)!;
    };
    // A control asked only of some prompts is measured on their images (none among these: not measured);
    // its target may be stated by several questions (phrasings), each asked of its own prompts.
    const stating = inputs.questions.filter((q, i) => targetOf(q, readings[i] ?? null) === control.target);
    const mine = pairs.filter((p) => stating.some((q) => isAskedOf(q, result.images[p.base]!.prompt)));
    if (mine.length === 0) return [];
    const unread = (side: "base" | "taught") => mine.filter((p) => outcome(control, p[side]) === null).length;
    const reads = kindRead(control.attribute);
    const otherKind = (side: "base" | "taught") =>
      mine.filter((p) => outcome(control, p[side]) === null && inputs.measurements[p[side]]!.kind !== reads)
        .length;
    // null (unreadable) counts as a failure
    const rate = (check: Check) =>
      change(
        mine.map((p) => Number(outcome(check, p.base))),
        mine.map((p) => Number(outcome(check, p.taught))),
      );
    return {
      attribute: control.attribute,
      label: control.label,
      question: inputs.questions[control.question]!.question,
      wanted: control.wanted,
      pairs: mine.length,
      unmeasured: { base: unread("base"), taught: unread("taught") },
      other_kind: reads === null ? null : { reads, base: otherKind("base"), taught: otherKind("taught") },
      ...rate(control),
      checks: control.checks.map((c) => ({ label: c.label, ...rate(c) })),
      details: control.details.map((c) => ({ label: c.label, ...rate(c) })),
    } satisfies ControlSummary;
  });
  const controlled = new Set(controls.map((c) => c.attribute));
  const measuredPairs = pairs.map((p) => ({
    before: inputs.measurements[p.base]!,
    after: inputs.measurements[p.taught]!,
    widthPx: inputs.pixels[p.base]!.width,
  }));
  const drift = driftRates(measuredPairs, controlled).map((d) => ({
    ...d,
    floor: inputs.driftFloor?.find((f) => f.attribute === d.attribute)?.rate ?? null,
  }));
  const kept = judges.flatMap((j, k) => keptAnswers(result, result.judges[k]!, j.role, pairs));
  const diversity = diversityOf(inputs, pairs);
  const judgeChecks = inputs.judgeChecks ?? [];
  const { verdict, text } = judgeVerdict(judges, controls, judgeChecks);
  const cost = verdict === "took" || verdict === "took_in_part" ? driftText(drift) : "";
  return {
    taught_scale: taughtScale,
    prompts: [...new Set(result.images.map((i) => i.prompt))],
    seeds: [...new Set(result.images.map((i) => i.seed))],
    pairs: pairs.length,
    judges,
    controls,
    drift,
    kept,
    diversity,
    judge_checks: judgeChecks,
    verdict,
    verdict_text: text + unreadText(controls) + cost + blindJudgeText(judgeChecks, controls.length === 0),
  };
}

/** Indices of (base, taught) images of the same prompt and seed. */
function pairImages(result: EvaluateResult, taughtScale: number): Pair[] {
  const key = (p: number, s: number) => `${p}/${s}`;
  const base = new Map<string, number>();
  result.images.forEach((img, i) => {
    if (img.lora_scale === 0) base.set(key(img.prompt_index, img.seed), i);
  });
  const pairs: Pair[] = [];
  result.images.forEach((img, i) => {
    const b = base.get(key(img.prompt_index, img.seed));
    if (img.lora_scale === taughtScale && b !== undefined && b !== i) pairs.push({ base: b, taught: i });
  });
  if (pairs.length === 0) throw new Error(`no image pairs at scales 0 and ${taughtScale}`);
  return pairs;
}

function change(base: number[], taught: number[]): Change {
  return {
    base: bootstrapMean(base),
    taught: bootstrapMean(taught),
    difference: bootstrapPairedDifference(taught, base),
  };
}

function judgeSummary(j: EvaluateResult["judges"][number], inputs: EvalInputs, pairs: Pair[]): JudgeSummary {
  if (j.probabilities.some((row) => row.length !== inputs.questions.length))
    throw new Error(`judge ${j.judge} answered other questions than the recipe's ${inputs.questions.length}`);
  const weights = inputs.questions.map((q) => q.weight ?? 1);
  /** The weighted mean over the questions asked of image i (null: none was). */
  const overall = (i: number): number | null => {
    let sum = 0;
    let total = 0;
    j.probabilities[i]!.forEach((p, q) => {
      if (p === null) return;
      sum += p * weights[q]!;
      total += weights[q]!;
    });
    return total > 0 ? sum / total : null;
  };
  return {
    judge: j.judge,
    // the teachers' roles as the evaluation assigned them; any other judge that answered is held out
    role:
      judgeRoles(inputs.trainingJudge, inputs.coJudges ?? [], null).find((r) => r.judge === j.judge)?.role ??
      "held-out",
    ...pairedChange(pairs, overall),
    questions: inputs.questions.map((q, k) => ({
      question: distinctLabel(q, inputs.questions),
      ...askedAs(j.asked_as?.[k], q.question),
      ...pairedChange(pairs, (i) => j.probabilities[i]![k] ?? null),
    })),
  };
}

/** Each keep question as one judge answered it: the probability of Yes without and with the LoRA, and how
 * often the answer changed (crossed 0.5) between the images of a pair. */
function keptAnswers(
  result: EvaluateResult,
  j: EvaluateResult["judges"][number],
  role: JudgeRole,
  pairs: Pair[],
): KeptSummary[] {
  const yes = j.keep_probabilities;
  if (!result.keep || !yes) return [];
  return result.keep.map((question, k) => ({
    question,
    judge: j.judge,
    role,
    ...askedAs(j.keep_asked_as?.[k], question),
    ...pairedChange(pairs, (i) => yes[i]![k]!),
    changed: bootstrapMean(pairs.map((p) => Number(yes[p.base]![k]! >= 0.5 !== yes[p.taught]![k]! >= 0.5))),
  }));
}

/**
 * A question's text, plus its wanted answer and visual prompt when another question has the same text
 * (`when` lets one wording ask for a high horizon of night prompts and a low one of sunny prompts).
 */
export function distinctLabel(q: QuestionLike, all: readonly QuestionLike[]): string {
  if (all.filter((other) => other.question === q.question).length < 2) return q.question;
  const parts = [q.answer === undefined ? "" : `answer ${q.answer}`];
  if (q.visual_prompt !== undefined) parts.push(JSON.stringify(q.visual_prompt));
  return `${q.question} (${parts.filter(Boolean).join(", ")})`;
}

/** The change over the pairs where both images have a value (a question is asked of both or neither). */
function pairedChange(pairs: Pair[], value: (image: number) => number | null): Change {
  const both = pairs.flatMap((p) => {
    const base = value(p.base);
    const taught = value(p.taught);
    return base === null || taught === null ? [] : [{ base, taught }];
  });
  return change(
    both.map((b) => b.base),
    both.map((b) => b.taught),
  );
}

function diversityOf(inputs: EvalInputs, pairs: Pair[]): EvalSummary["diversity"] {
  const byPrompt = (pick: (p: Pair) => number) => {
    const groups = new Map<number, RGBImage[]>();
    for (const p of pairs) {
      const i = pick(p);
      const prompt = inputs.result.images[i]!.prompt_index;
      const group = groups.get(prompt) ?? [];
      group.push(inputs.pixels[i]!);
      groups.set(prompt, group);
    }
    return bootstrapMean(pairwiseDistances([...groups.values()]));
  };
  const base = byPrompt((p) => p.base);
  const taught = byPrompt((p) => p.taught);
  return { base, taught, ratio: base && taught && base.mean > 0 ? taught.mean / base.mean : null };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}`;

/**
 * How far a control took, in the verdict itself: "took" alone would say the same of 55% and of 100%. One
 * confirming control: " in 60.4% of the held-out images (...; 0.0% without the LoRA)"; several: each by name.
 */
function successText(rose: ControlSummary[]): string {
  if (rose.length === 1) return ` in ${inImages(rose[0]!)}`;
  return `: ${rose.map(tookText).join("; ")}`;
}

const inImages = (c: ControlSummary) =>
  `${pct(c.taught!.mean)}% of the held-out images (95% interval ${pct(c.taught!.low)} to ${pct(c.taught!.high)}; ` +
  `${pct(c.base!.mean)}% without the LoRA)`;

/** "horizon at 30% ... in 100.0% of the held-out images (...)". */
const tookText = (c: ControlSummary) => `${c.label} in ${inImages(c)}`;

/**
 * The share of held-out images a control must reach with the LoRA to count as met without a clear rise (the
 * issue's target for the measured controls): a second target that the untaught images already meet cannot
 * rise, and has not failed.
 */
export const MET_RATE = 0.9;

function meets(c: ControlSummary): boolean {
  return c.taught !== null && c.taught.mean >= MET_RATE;
}

/**
 * What a control that took cost, in the verdict itself: each drift whose whole 95% interval lies more than
 * LEAST_GAIN above what a perfect control causes (its floor, measured on renders in the Scenes world). A LoRA
 * that meets its target by redrawing everything (line weight met by a field of short strokes, a night sky
 * that moves every horizon) took, and says so, but not in the same breath as one that kept the rest. Where no
 * floor was measured (real families) the drift table alone reports it: some checks change under any control.
 */
function driftText(drift: readonly DriftSummary[]): string {
  const beyond = drift.filter((d) => d.rate && d.floor && d.rate.low > d.floor.mean + LEAST_GAIN);
  if (beyond.length === 0) return "";
  const one = (d: DriftSummary) =>
    `${d.label} in ${pct(d.rate!.mean)}% of pairs (95% interval ${pct(d.rate!.low)} to ${pct(d.rate!.high)}; ` +
    `a perfect control: ${pct(d.floor!.mean)}%)`;
  return ` It also changed what the recipe does not control, well beyond what a perfect control would: ${beyond.map(one).join("; ")}.`;
}

/**
 * A judge no better than chance on renders whose answer is known (judge-check.ts) tells the reader why: a
 * training judge or co-judge that cannot see the control cannot have taught it by seeing it, and a held-out
 * judge that is the only check (no measurer applies) cannot check it.
 */
function blindJudgeText(checks: readonly JudgeCheck[], heldOutIsTheCheck: boolean): string {
  const blind = checks.filter((c) => (c.role !== "held-out" || heldOutIsTheCheck) && isBlind(c));
  return blind
    .map(
      (c) =>
        ` On rendered scenes whose answer is known, the ${ROLE_NAMES[c.role]} ${c.judge} was right in ` +
        `${pct(c.right!.mean)}% (95% interval ${pct(c.right!.low)} to ${pct(c.right!.high)}; chance is 50%) ` +
        `when asked "${c.question}"${c.asked_as === undefined ? "" : ` (in its own words: "${c.asked_as}")`}: ` +
        (c.role === "held-out"
          ? "it cannot tell right answers from wrong ones here, so its score cannot check this control."
          : "it cannot tell right answers from wrong ones here, so it cannot teach this control by seeing it."),
    )
    .join("");
}

const ROLE_NAMES: Record<JudgeRole, string> = {
  training: "training judge",
  "co-judge": "co-judge",
  "held-out": "held-out judge",
};

/** Whether a check on scenes whose answer is known reaches down to chance (no score: not known). */
function isBlind(check: JudgeCheck): boolean {
  return check.right !== null && check.right.low <= 0.5;
}

/** Whether a judge was checked on some question and is no better than chance on every one it was. */
function blindOnEvery(judge: string, checks: readonly JudgeCheck[]): boolean {
  const mine = checks.filter((c) => c.judge === judge);
  return mine.length > 0 && mine.every(isBlind);
}

/**
 * Share of a control's pairs whose image with the LoRA the measurer could not read, from which the verdict
 * says so: a LoRA that draws what the measurers cannot read looks like one that failed, or like too few
 * pairs to tell, unless the reason is given.
 */
export const UNREAD_NOTED = 0.25;

const READ_WHAT: Record<string, string> = {
  stroke: "the stroke width",
  horizon: "a horizon",
  sky: "the sky",
  depth: "the depth at the points",
  layout: "the layout",
  palette: "the palette",
};
const KIND_NAME: Record<SceneKind, string> = { lineart: "line art", landscape: "a landscape" };

/** " The measurers could not read the stroke width on 22 of the 32 images with the LoRA (...)", where it matters. */
function unreadText(controls: readonly ControlSummary[]): string {
  return controls
    .filter((c) => c.pairs > 0 && c.unmeasured.taught >= UNREAD_NOTED * c.pairs)
    .map((c) => {
      const what = READ_WHAT[c.attribute] ?? c.label;
      const other = c.other_kind && c.other_kind.taught > 0 ? c.other_kind : null;
      const why = other
        ? `; ${other.taught} of them do not look like ${KIND_NAME[other.reads]} to the measurers, which read ${what} on ${KIND_NAME[other.reads]} only`
        : "";
      return (
        ` The measurers could not read ${what} on ${c.unmeasured.taught} of the ${c.pairs} images with the LoRA ` +
        `(${c.unmeasured.base} without it)${why}; each counts as a failure.`
      );
    })
    .join("");
}

/** The held-out judges' own rise, for a control no measurer checks. */
function heldOutText(rose: JudgeSummary[]): string {
  const one = (j: JudgeSummary) =>
    `${j.judge}'s score rose by ${pct(j.difference!.mean)} points (95% interval ${pct(j.difference!.low)} to ${pct(j.difference!.high)})`;
  return ` (${rose.map(one).join("; ")})`;
}

/**
 * The measurers outrank the held-out judges, which outrank the training judge: a rise of the training
 * judge's score with no clear rise in what was held out is the signature of a generator that learned to
 * fool its judge.
 */
/**
 * The least rise, in probability or success rate, that counts as a gain: the whole 95% interval must lie above
 * it. A held-out judge's mean score over 400 answers moves by a point with no visible change (the fourth
 * session's relative-depth run "took" on a 0.7-point rise); no control worth the name gains under 5 points.
 */
export const LEAST_GAIN = 0.05;

function judgeVerdict(
  judges: JudgeSummary[],
  controls: ControlSummary[],
  checks: readonly JudgeCheck[],
): { verdict: Verdict; text: string } {
  const training = judges.find((j) => j.role === "training");
  const heldOut = judges.filter((j) => j.role === "held-out");
  const rise = training?.difference;
  // a recipe's own targets decide; its contrasts (a wanted "No" beside a wanted "Yes") only sharpen them:
  // moving off "1 px" is no line weight of 2 px
  const targets = controls.some((c) => c.wanted) ? controls.filter((c) => c.wanted) : controls;
  const evidence = targets.length > 0 ? targets : heldOut;
  // the measurers outrank the judges: a control they see take has taken, however little the training judge's
  // own score moved (a regulariser can hold it under 5 points while the picture follows the control)
  const judgeRose = clearlyAbove(rise ?? null, LEAST_GAIN);
  const measuredRose = targets.some((c) => clearlyAbove(c.difference, LEAST_GAIN));
  if (!training || !(judgeRose || measuredRose)) {
    return {
      verdict: "no_gain",
      text: "The training judge's own score did not clearly rise (by at least 5 points) with the LoRA: the control did not take.",
    };
  }
  const interval = `${pct(rise!.mean)} points (95% interval ${pct(rise!.low)} to ${pct(rise!.high)})`;
  const gain = judgeRose
    ? `The training judge's score rose by ${interval}`
    : `The training judge's own score rose by ${interval}, not clearly the 5 points a gain must clear`;
  // a held-out judge that cannot tell right answers from wrong ones on scenes whose answer is known checks
  // nothing: with no measurer, its rise would not confirm the control, nor its flat score show hacking
  if (controls.length === 0 && heldOut.length > 0 && heldOut.every((j) => blindOnEvery(j.judge, checks))) {
    return {
      verdict: "unverified",
      text: `${gain}, but nothing held out can check it: no measurer applies, and the held-out judge is no better than chance here.`,
    };
  }
  if (evidence.length === 0) {
    return {
      verdict: "unverified",
      text: `${gain}, but nothing held out can check it: no held-out judge answered and no measurer applies to these questions.`,
    };
  }
  const rose = evidence.filter((e) => clearlyAbove(e.difference, LEAST_GAIN));
  const what = controls.length > 0 ? "the measurers" : "the held-out judge";
  const confirm = controls.length > 0 ? "confirm" : "confirms";
  const link = judgeRose ? `, and ${what} ${confirm}` : `, but ${what} show`;
  // a recipe that states several targets (a line at 70% and "a low horizon") took only where each did: the
  // looser one met by noise with a line near the bottom is not the control asked for
  const short = controls.length > 0 ? targets.filter((c) => !rose.includes(c) && !meets(c)) : [];
  if (rose.length > 0 && short.length > 0) {
    return {
      verdict: "took_in_part",
      text:
        `${gain}${link} part of it: ${(rose as ControlSummary[]).map(tookText).join("; ")}; ` +
        `but not ${short.map(gainText).join("; ")}: the control took only in part.`,
    };
  }
  if (rose.length > 0) {
    const howFar =
      controls.length > 0 ? successText(rose as ControlSummary[]) : heldOutText(rose as JudgeSummary[]);
    return { verdict: "took", text: `${gain}${link} it: the control took${howFar}.` };
  }
  // a gain whose interval reaches 5 points but does not clear them is too few pairs to tell, not hacking
  const unclear = evidence.filter((e) => e.difference !== null && e.difference.high >= LEAST_GAIN);
  if (unclear.length > 0) {
    return {
      verdict: "inconclusive",
      text:
        `${gain}; ${what} saw a gain that may or may not reach the 5 points a gain must clear ` +
        `(${unclear.map(gainText).join("; ")}): too few image pairs to tell; evaluate on more seeds ` +
        `(dualproc eval RUN --seeds 64).`,
    };
  }
  // a target the LoRA clearly took away (every image before, none after) says more than "no gain"
  const fell = evidence.filter((e) => e.difference !== null && e.difference.high < -LEAST_GAIN);
  const fall = fell.length > 0 ? `, and a clear fall (${fell.map(gainText).join("; ")})` : "";
  return {
    verdict: "probable_hacking",
    text: `${gain}, but ${what} saw no clear gain of 5 points or more${fall}: the generator probably learned to please the training judge rather than to follow the control (judge hacking).`,
  };
}

/** "horizon at 30% ...: +7.3 points (95% interval 3.5 to 11.2)", or a held-out judge's name for a label. */
function gainText(e: ControlSummary | JudgeSummary): string {
  const name = "label" in e ? e.label : e.judge;
  const d = e.difference!;
  return `${name}: ${d.mean >= 0 ? "+" : ""}${pct(d.mean)} points (95% interval ${pct(d.low)} to ${pct(d.high)})`;
}

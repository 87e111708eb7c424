/**
 * Can the judges tell? A taught LoRA can only be as good as its training judge, and a held-out judge only
 * checks what it can itself see. The drift floor's renders (drift-floor.ts) are scenes whose answer the
 * measurers know: the control's twins pass it, the plain scenes mostly fail it. Each judge is asked the
 * control's question about both; how often its wanted answer goes with the measured truth says whether it
 * can answer this question at all. (The shipped palette judge gives a retro-painted render and a plain one
 * about the same probability: no teaching through it can bring the palette's every colour in.)
 */
import { bootstrapMean, bootstrapMeanOfGroups, type Interval } from "./bootstrap.js";

/**
 * What a judge is to a run: the training judge and its co-judges taught the LoRA (their scores are not a check
 * of it), the held-out judge did not.
 */
export type JudgeRole = "training" | "co-judge" | "held-out";

export interface RoledJudge {
  judge: string;
  role: JudgeRole;
}

/** The judges an evaluation asks, in order: the training judge, its co-judges, then the held-out judge if any. */
export function judgeRoles(
  training: string,
  coJudges: readonly string[],
  heldOut: string | null,
): RoledJudge[] {
  return [
    { judge: training, role: "training" },
    ...coJudges.map((judge) => ({ judge, role: "co-judge" as const })),
    ...(heldOut === null ? [] : [{ judge: heldOut, role: "held-out" as const }]),
  ];
}

export interface JudgeCheck {
  judge: string;
  role: JudgeRole;
  question: string;
  /** The question as this judge was asked it, where other words than the recipe's (a Scenes judge's own). */
  asked_as?: string;
  /** Renders that pass the control, and that fail it, by the measurers (unreadable ones left out). */
  renders: { pass: number; fail: number };
  /** The judge's mean probability of the wanted answer on the renders that pass, and on those that fail. */
  on_pass: Interval | null;
  on_fail: Interval | null;
  /**
   * Balanced accuracy: the mean of its share right on passing renders (wanted answer above 0.5) and on
   * failing ones (below 0.5); 50% is chance whatever the mix. Null unless both kinds are there.
   */
  right: Interval | null;
}

export interface JudgeAnswers {
  judge: string;
  role: JudgeRole;
  question: string;
  asked_as?: string;
  /**
   * How the report names the question, where the recipe asks its text more than once (summary.ts
   * `distinctLabel`: the text, the wanted answer and the visual prompt); the text otherwise.
   */
  label?: string;
  /** Its probability of the wanted answer per render. */
  probabilities: readonly number[];
}

/** One judge's check, from its answers and the measured truth per render (null: unreadable, left out). */
export function judgeCheck(answers: JudgeAnswers, truths: readonly (boolean | null)[]): JudgeCheck {
  if (answers.probabilities.length !== truths.length)
    throw new Error("judge check: one answer per render expected");
  const on = (truth: boolean) => answers.probabilities.filter((_, i) => truths[i] === truth);
  const [pass, fail] = [on(true), on(false)];
  return {
    judge: answers.judge,
    role: answers.role,
    question: answers.label ?? answers.question,
    ...askedAs(answers.asked_as, answers.question),
    renders: { pass: pass.length, fail: fail.length },
    on_pass: bootstrapMean(pass),
    on_fail: bootstrapMean(fail),
    right: bootstrapMeanOfGroups([pass.map((p) => Number(p > 0.5)), fail.map((p) => Number(p < 0.5))]),
  };
}

/** `{ asked_as }` when a judge was asked the question in other words than the recipe's; else nothing. */
export function askedAs(asked: string | undefined, question: string): { asked_as?: string } {
  return asked !== undefined && asked !== question ? { asked_as: asked } : {};
}

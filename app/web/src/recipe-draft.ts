/**
 * The teach form's state (a draft) and the recipe YAML it stands for. The recipe schema (and its one-line
 * errors) stays the server's: the page only turns form fields into YAML and back, keeping every field the
 * form does not show (a library recipe's eval scales, checkpointing, ...) as it was.
 */
import { parse, stringify } from "yaml";
import { SCENES_TRAINING_DEFAULTS } from "../../src/recipes/generator-defaults.js";

export type Point = [number, number];

export type VisualDraft =
  | { kind: "none" }
  | { kind: "horizon"; y: number }
  | { kind: "palette"; colors: string[] }
  | { kind: "stroke"; width_px: number }
  | { kind: "points"; a: Point; b: Point }
  | { kind: "image"; path: string; url: string | null }
  | { kind: "palette_from_image"; path: string; url: string | null; count: number }
  /** A visual prompt the form cannot edit (a layout): kept as written. */
  | { kind: "other"; raw: Record<string, unknown> };

export interface QuestionDraft {
  question: string;
  answer: string;
  weight: number;
  visual: VisualDraft;
  /** Which prompts it is asked of (`when`), as "sky: night; thing: trees, a house"; "" for every prompt. */
  when: string;
  /** A palette question's `pair_weight` (also asked in pairs of its colours); 0: not asked. */
  pairWeight: number;
}

export type PromptsDraft =
  { mode: "list"; lines: string } | { mode: "template"; template: string; slots: string };

export interface TrainingDraft {
  max_train_steps: number;
  learning_rate: number;
  lora_rank: number;
  lora_scale: number;
  train_batch_size: number;
  resolution_px: number;
}

export interface Draft {
  name: string;
  description: string;
  generator: string;
  judge: string;
  /** Judges that teach beside `judge` (`co_judges`), comma separated; "" for none. */
  co_judges: string;
  heldout_judge: string;
  /** The keep questions (`keep`), one per line; "" for none. */
  keep: string;
  /** The judge they are asked of (`keep_judge`); "" for the training judge. */
  keep_judge: string;
  prompts: PromptsDraft;
  evalPrompts: string;
  questions: QuestionDraft[];
  training: TrainingDraft;
  /** The recipe the draft came from: fields the form does not show are written back from it. */
  base: Record<string, unknown>;
}

export const VISUAL_DEFAULTS: Record<Exclude<VisualDraft["kind"], "other">, VisualDraft> = {
  none: { kind: "none" },
  horizon: { kind: "horizon", y: 0.3 },
  palette: { kind: "palette", colors: ["#1f3b73", "#f2c14e", "#e4572e"] },
  stroke: { kind: "stroke", width_px: 3 },
  points: { kind: "points", a: [0.3, 0.7], b: [0.7, 0.4] },
  image: { kind: "image", path: "", url: null },
  palette_from_image: { kind: "palette_from_image", path: "", url: null, count: 5 },
};

/** A new draft: the demo control, on the embedded models, small enough to train on a laptop CPU. */
export function blankDraft(): Draft {
  return {
    name: "my-control",
    description: "",
    generator: "scenes-generator",
    judge: "scenes-judge",
    co_judges: "",
    heldout_judge: "scenes-judge-heldout",
    keep: "",
    keep_judge: "",
    prompts: { mode: "list", lines: "a sunny landscape with trees\na night landscape with a house" },
    evalPrompts: "a snowy landscape with animals\na grassy meadow at midday",
    questions: [
      {
        question: "Is the red line aligned with the horizon?",
        answer: "Yes",
        weight: 1,
        visual: { kind: "horizon", y: 0.3 },
        when: "",
        pairWeight: 0,
      },
    ],
    // the embedded generator's, as a recipe that names none gets them (and every library recipe sets)
    training: {
      max_train_steps: SCENES_TRAINING_DEFAULTS.max_train_steps,
      learning_rate: SCENES_TRAINING_DEFAULTS.learning_rate,
      lora_rank: SCENES_TRAINING_DEFAULTS.lora_rank,
      lora_scale: SCENES_TRAINING_DEFAULTS.lora_scale,
      train_batch_size: SCENES_TRAINING_DEFAULTS.train_batch_size,
      resolution_px: SCENES_TRAINING_DEFAULTS.resolution_px,
    },
    base: {
      eval: { seeds: [100, 101, 102, 103], lora_scales: [0, 1] },
      training: { checkpointing_steps: 50 },
    },
  };
}

const lines = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

function promptsValue(p: PromptsDraft): unknown {
  if (p.mode === "list") return lines(p.lines);
  const slots = Object.fromEntries(
    lines(p.slots).map((line) => {
      const [name, values = ""] = line.split(/:(.*)/s);
      return [
        name!.trim(),
        values
          .split(",")
          .map((v) => v.trim())
          .filter(Boolean),
      ];
    }),
  );
  return { template: p.template, slots };
}

function visualValue(v: VisualDraft): Record<string, unknown> | undefined {
  switch (v.kind) {
    case "none":
      return undefined;
    case "other":
      return v.raw;
    case "image":
      return { kind: "image", path: v.path };
    case "palette_from_image":
      return { kind: "palette_from_image", path: v.path, count: v.count };
    default:
      return { ...v };
  }
}

const asRecord = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};

/** The visual prompts whose questions can also be asked in pairs of their colours (`pair_weight`). */
export const PAIRED_KINDS = new Set<VisualDraft["kind"]>(["palette", "palette_from_image"]);

/** The recipe the draft stands for, as YAML. */
export function draftYaml(d: Draft): string {
  const co = coJudges(d.co_judges);
  const recipe: Record<string, unknown> = {
    ...d.base,
    name: d.name.trim() || undefined,
    description: d.description.trim() || undefined,
    generator: d.generator,
    judge: d.judge,
    co_judges: co.length ? co : undefined,
    heldout_judge: d.heldout_judge || null,
    keep: keepValue(d.keep, d.base.keep),
    keep_judge: d.keep_judge.trim() || undefined,
    prompts: promptsValue(d.prompts),
    questions: d.questions.map((q) => {
      const visual = visualValue(q.visual);
      return {
        question: q.question,
        answer: q.answer,
        weight: q.weight,
        ...(visual ? { visual_prompt: visual } : {}),
        ...(q.pairWeight > 0 && PAIRED_KINDS.has(q.visual.kind) ? { pair_weight: q.pairWeight } : {}),
        ...(whenValue(q.when) ? { when: whenValue(q.when) } : {}),
      };
    }),
    eval: {
      ...asRecord(d.base.eval),
      ...(lines(d.evalPrompts).length ? { prompts: lines(d.evalPrompts) } : {}),
    },
    training: { ...asRecord(d.base.training), ...d.training },
  };
  for (const key of Object.keys(recipe)) if (recipe[key] === undefined) delete recipe[key];
  return stringify(recipe, { lineWidth: 110 });
}

/** A draft from recipe YAML, or the reason the YAML cannot be read. */
export function draftFromYaml(text: string): Draft | string {
  let data: unknown;
  try {
    data = parse(text);
  } catch (error) {
    return `YAML: ${(error as Error).message.split("\n")[0]}`;
  }
  const r = asRecord(data);
  const blank = blankDraft();
  const str = (value: unknown, fallback: string) => (typeof value === "string" ? value : fallback);
  const training = asRecord(r.training);
  const num = (key: keyof TrainingDraft) => {
    const value = training[key];
    return typeof value === "number" ? value : blank.training[key];
  };
  const evaluation = asRecord(r.eval);
  // Held-out prompts as a template stay in the recipe as written; a list is edited in the form.
  const evalTemplate = asRecord(evaluation.prompts) === evaluation.prompts;
  const evalLines = Array.isArray(evaluation.prompts)
    ? evaluation.prompts.map(String).join("\n")
    : typeof evaluation.prompts === "string"
      ? evaluation.prompts
      : "";
  return {
    name: str(r.name, ""),
    description: str(r.description, ""),
    generator: str(r.generator, blank.generator),
    judge: str(r.judge, blank.judge),
    co_judges: Array.isArray(r.co_judges) ? r.co_judges.map(String).join(", ") : "",
    heldout_judge: r.heldout_judge === null ? "" : str(r.heldout_judge, blank.heldout_judge),
    keep: Array.isArray(r.keep) ? r.keep.map(keepText).join("\n") : "",
    keep_judge: str(r.keep_judge, ""),
    prompts: promptsDraft(r.prompts),
    evalPrompts: evalLines,
    questions: Array.isArray(r.questions) ? r.questions.map(questionDraft) : [],
    training: {
      max_train_steps: num("max_train_steps"),
      learning_rate: num("learning_rate"),
      lora_rank: num("lora_rank"),
      lora_scale: num("lora_scale"),
      train_batch_size: num("train_batch_size"),
      resolution_px: num("resolution_px"),
    },
    base: { ...r, eval: evalTemplate ? evaluation : omit(evaluation, "prompts") },
  };
}

/**
 * The keep-questions field as the recipe's `keep` (undefined when empty): one question a line; a line that is
 * a question of the recipe's own `keep` keeps its weight and visual prompt, which the form does not show.
 */
export function keepValue(text: string, written: unknown): Record<string, unknown>[] | undefined {
  const before = new Map((Array.isArray(written) ? written : []).map((k) => [keepText(k), asRecord(k)]));
  const kept = lines(text).map((question) => ({ ...before.get(question), question }));
  return kept.length > 0 ? kept : undefined;
}

/** A keep question's words ("" where it has none). */
function keepText(k: unknown): string {
  const question = asRecord(k).question;
  return typeof question === "string" ? question : "";
}

/** The co-judges field as the recipe's list: names split at commas, blanks dropped. */
export function coJudges(text: string): string[] {
  return text
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
}

function omit(record: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...record };
  delete copy[key];
  return copy;
}

function promptsDraft(value: unknown): PromptsDraft {
  if (typeof value === "string") return { mode: "list", lines: value };
  if (Array.isArray(value)) return { mode: "list", lines: value.map(String).join("\n") };
  const t = asRecord(value);
  const slots = Object.entries(asRecord(t.slots))
    .map(([name, values]) => `${name}: ${Array.isArray(values) ? values.join(", ") : ""}`)
    .join("\n");
  return { mode: "template", template: typeof t.template === "string" ? t.template : "", slots };
}

function questionDraft(value: unknown): QuestionDraft {
  const q = asRecord(value);
  return {
    question: typeof q.question === "string" ? q.question : "",
    answer: typeof q.answer === "string" ? q.answer : "Yes",
    weight: typeof q.weight === "number" ? q.weight : 1,
    visual: visualDraft(q.visual_prompt),
    when: whenText(q.when),
    pairWeight: typeof q.pair_weight === "number" ? q.pair_weight : 0,
  };
}

/** A question's `when` as the form's text: "sky: night, sunset; thing: trees". */
export function whenText(when: unknown): string {
  return Object.entries(asRecord(when))
    .map(([slot, values]) => `${slot}: ${(Array.isArray(values) ? values : [values]).map(String).join(", ")}`)
    .join("; ");
}

/** The form's text back as `when` (undefined when empty): one value as a string, several as a list. */
export function whenValue(text: string): Record<string, string | string[]> | undefined {
  const entries = text
    .split(";")
    .map((part) => part.split(/:(.*)/s))
    .filter(([slot]) => slot!.trim() !== "")
    .map(([slot, values = ""]) => {
      const list = values
        .split(",")
        .map((v) => v.trim())
        .filter(Boolean);
      return [slot!.trim(), list.length === 1 ? list[0]! : list] as const;
    });
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

/** A recipe's visual prompt as the form (and the overlay drawing) knows it. */
export function visualDraft(value: unknown): VisualDraft {
  if (value === undefined || value === null) return { kind: "none" };
  const v = asRecord(value);
  const mode = v.mode;
  // A mode the form does not offer (blend) is kept by keeping the prompt as written.
  if (mode !== undefined) return { kind: "other", raw: v };
  switch (v.kind) {
    case "horizon":
      return typeof v.y === "number" ? { kind: "horizon", y: v.y } : { kind: "other", raw: v };
    case "palette":
      return Array.isArray(v.colors)
        ? { kind: "palette", colors: v.colors.map(String) }
        : { kind: "other", raw: v };
    case "stroke":
      return typeof v.width_px === "number"
        ? { kind: "stroke", width_px: v.width_px }
        : { kind: "other", raw: v };
    case "points":
      return isPoint(v.a) && isPoint(v.b) ? { kind: "points", a: v.a, b: v.b } : { kind: "other", raw: v };
    case "image":
      return { kind: "image", path: typeof v.path === "string" ? v.path : "", url: null };
    case "palette_from_image":
      return {
        kind: "palette_from_image",
        path: typeof v.path === "string" ? v.path : "",
        url: null,
        count: typeof v.count === "number" ? v.count : 5,
      };
    default:
      return { kind: "other", raw: v };
  }
}

const isPoint = (p: unknown): p is Point =>
  Array.isArray(p) && p.length === 2 && p.every((x) => typeof x === "number");

/** The first training prompt, to draw a preview of (templates take each slot's first value). */
export function firstPrompt(p: PromptsDraft): string {
  const value = promptsValue(p);
  if (Array.isArray(value)) return String(value[0] ?? "");
  const t = asRecord(value);
  const slots = asRecord(t.slots);
  const template = typeof t.template === "string" ? t.template : "";
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const values = slots[name];
    return Array.isArray(values) && values.length ? String(values[0]) : name;
  });
}

/**
 * Questions about each prompt's own slot values. A recipe's prompt template ("a {sky} landscape with
 * {thing}") gives every training prompt its slot values; a question may depend on them in two ways:
 *
 * - `when: {sky: night}` asks it only of images whose prompt has those values;
 * - a `{slot}` in its text or answer ("Is the sky a {sky} sky?") asks it of every prompt with that
 *   prompt's own value filled in: one question per value, each asked of the prompts that have it.
 *
 * That lets a control pin what each prompt says (its sky) while it moves something else (the horizon). The
 * engine receives plain questions, each with the list of prompts it is asked of; an evaluation prompt is
 * asked a question when it is one of those prompts or has the same slot values.
 */
import { RecipeError } from "./errors.js";
import { withColourPairs, type PairedQuestion } from "./palette-pairs.js";
import { MAX_ASKED_QUESTIONS, type Recipe, type TeachRecipe } from "./schema.js";

/** One expanded prompt and the slot values that made it ({} for a prompt given as text). */
export interface SlottedPrompt {
  text: string;
  slots: Record<string, string>;
}

type RecipeQuestion = Recipe["questions"][number];
type AskedQuestion = TeachRecipe["questions"][number];

const PLACEHOLDER = /\{(\w+)\}/g;

/** The slot names a question's text or answer refers to, in order of first use. */
export function placeholders(question: Pick<RecipeQuestion, "question" | "answer">): string[] {
  const text = `${question.question}\n${question.answer}`;
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

/**
 * The questions the engine asks: each question without `when` or {slot} as it is; each other one once per
 * combination of the slot values it names, with the training and evaluation prompts it is asked of; a
 * palette question with a `pair_weight` followed by its pair questions (palette-pairs.ts), expanded alike.
 */
export function askedQuestions(
  questions: RecipeQuestion[],
  training: SlottedPrompt[],
  evaluation: SlottedPrompt[],
  source: string,
): AskedQuestion[] {
  const slotValues = valuesOf(training);
  const asked = questions.flatMap((q, i) =>
    withColourPairs(q, i, `${source}: questions[${i}]`).flatMap(({ question, pairOf }) =>
      expand(question, `${source}: questions[${i}]`, slotValues, training, evaluation).map((a) =>
        pairOf === undefined ? a : { ...a, pair_of: pairOf },
      ),
    ),
  );
  if (asked.length > MAX_ASKED_QUESTIONS) {
    throw new RecipeError(
      `${source}: questions: the {slot}s expand to ${asked.length} questions (at most ${MAX_ASKED_QUESTIONS})`,
    );
  }
  const unasked = training.find((p) => !asked.some((q) => q.weight > 0 && isAskedOf(q, p.text)));
  if (unasked) {
    throw new RecipeError(
      `${source}: questions: no question with a weight > 0 is asked of the prompt ${JSON.stringify(unasked.text)}`,
    );
  }
  return asked;
}

/** Whether `question` is asked of `prompt`'s images (a question without a prompt list is asked of all). */
export function isAskedOf(question: { prompts?: string[] | undefined }, prompt: string): boolean {
  return question.prompts === undefined || question.prompts.includes(prompt);
}

function valuesOf(prompts: SlottedPrompt[]): Map<string, Set<string>> {
  const values = new Map<string, Set<string>>();
  for (const p of prompts) {
    for (const [name, value] of Object.entries(p.slots)) {
      values.set(name, (values.get(name) ?? new Set()).add(value));
    }
  }
  return values;
}

function expand(
  question: PairedQuestion,
  where: string,
  slotValues: Map<string, Set<string>>,
  training: SlottedPrompt[],
  evaluation: SlottedPrompt[],
): AskedQuestion[] {
  const { when, ...plain } = question;
  const names = placeholders(question);
  if (when === undefined && names.length === 0) return [plain];
  const conditions = checkedConditions(when ?? {}, where, slotValues);
  for (const name of names) {
    if (!slotValues.has(name)) {
      throw new RecipeError(
        `${where}: {${name}} is not a slot of the training prompts (${slotList(slotValues)})`,
      );
    }
  }
  const matching = training.filter((p) => meets(p, conditions));
  if (matching.length === 0) {
    throw new RecipeError(`${where}.when: no training prompt has these slot values`);
  }
  const combinations = new Map<string, Record<string, string>>();
  for (const p of matching) {
    const values = Object.fromEntries(names.map((n) => [n, p.slots[n]!]));
    combinations.set(JSON.stringify(values), values);
  }
  return [...combinations.values()].map((values) => {
    const fixed = { ...conditions, ...Object.fromEntries(names.map((n) => [n, [values[n]!]])) };
    const prompts = [...training, ...evaluation].filter((p) => meets(p, fixed)).map((p) => p.text);
    return {
      ...plain,
      question: fill(plain.question, values),
      answer: fill(plain.answer, values),
      prompts: [...new Set(prompts)],
    };
  });
}

/** `when` as slot -> allowed values, each slot and value checked against the training prompts'. */
function checkedConditions(
  when: NonNullable<RecipeQuestion["when"]>,
  where: string,
  slotValues: Map<string, Set<string>>,
): Record<string, string[]> {
  const conditions: Record<string, string[]> = {};
  for (const [name, wanted] of Object.entries(when)) {
    const known = slotValues.get(name);
    if (!known) {
      throw new RecipeError(
        `${where}.when: '${name}' is not a slot of the training prompts (${slotList(slotValues)})`,
      );
    }
    const values = Array.isArray(wanted) ? wanted : [wanted];
    const unknown = values.find((v) => !known.has(v));
    if (unknown !== undefined) {
      throw new RecipeError(
        `${where}.when.${name}: ${JSON.stringify(unknown)} is not one of its values (${[...known].join(", ")})`,
      );
    }
    conditions[name] = values;
  }
  return conditions;
}

function meets(prompt: SlottedPrompt, conditions: Record<string, string[]>): boolean {
  return Object.entries(conditions).every(([name, values]) => {
    const value = prompt.slots[name];
    return value !== undefined && values.includes(value);
  });
}

function fill(text: string, values: Record<string, string>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => values[name] ?? whole);
}

function slotList(slotValues: Map<string, Set<string>>): string {
  return slotValues.size > 0
    ? `slots: ${[...slotValues.keys()].join(", ")}`
    : "the prompts are not a template";
}

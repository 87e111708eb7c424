/**
 * Reading a recipe: YAML -> validated, resolved recipe, or one line naming the place, the key and what is
 * allowed ("horizon.yaml:7:5: questions[0]: unknown key 'answr' (allowed: question, answer, weight, ...)").
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { LineCounter, parseDocument, stringify, isMap, isScalar, visit, Scalar, type Document } from "yaml";
import type { z } from "zod";
import { RecipeError } from "./errors.js";
import { drawsScenes } from "./draws-scenes.js";
import { withGeneratorDefaults } from "./generator-defaults.js";
import { resolvePaletteImages } from "./palette-image.js";
import { Recipe, type TeachRecipe } from "./schema.js";
import { askedQuestions, type SlottedPrompt } from "./slot-questions.js";
import { didYouMean } from "./suggest.js";
import { objectKeys, rawSchemaAt, schemaAt, unionTags } from "./zod-walk.js";

const MAX_EXPANDED_PROMPTS = 10_000;

export { RecipeError } from "./errors.js";

export interface ResolvedRecipe {
  recipe: Recipe;
  /** The training prompts, templates expanded. */
  prompts: string[];
  /** The evaluation prompts, templates expanded (the training prompts when none are given). */
  evalPrompts: string[];
  /** The questions the engine asks: {slot}s filled in, each with the prompts it is asked of (slot-questions.ts). */
  questions: TeachRecipe["questions"];
}

/**
 * A recipe file, read and resolved. `generator` (teach's --generator) replaces the recipe's own before the
 * defaults are filled in, since the training defaults follow the generator (generator-defaults.ts).
 */
export function loadRecipeFile(path: string, generator?: string): ResolvedRecipe {
  if (!existsSync(path)) throw new RecipeError(`${path}: no such recipe file`);
  return parseRecipeIn(readFileSync(path, "utf8"), dirname(resolve(path)), path, generator);
}

/**
 * A recipe's text whose image paths are relative to `baseDir`: parsed, files checked, palettes read, and
 * image paths made absolute, so the resolved recipe a run folder keeps still finds its images when the run
 * is resumed or evaluated from there.
 */
export function parseRecipeIn(
  text: string,
  baseDir: string,
  source: string,
  generator?: string,
): ResolvedRecipe {
  const parsed = readRecipe(text, source, generator);
  checkReferencedFiles(parsed, baseDir, source);
  const recipe = absoluteImagePaths(resolvePaletteImages(parsed, baseDir, source), baseDir);
  // expanded only now: the questions the engine asks carry the palette read from the picture and the
  // absolute paths, not the recipe's `palette_from_image` (which the engine does not know)
  return expandRecipe(recipe, source);
}

function absoluteImagePaths(recipe: Recipe, baseDir: string): Recipe {
  const questions = recipe.questions.map((q) =>
    q.visual_prompt?.kind === "image"
      ? { ...q, visual_prompt: { ...q.visual_prompt, path: resolve(baseDir, q.visual_prompt.path) } }
      : q,
  );
  return { ...recipe, questions };
}

export function parseRecipe(text: string, source = "recipe"): ResolvedRecipe {
  return expandRecipe(readRecipe(text, source), source);
}

/** The recipe's text parsed and checked, every default filled in; prompts and questions not yet expanded. */
function readRecipe(text: string, source: string, generator?: string): Recipe {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const pos = syntax.linePos?.[0];
    const at = pos ? `${source}:${pos.line}:${pos.col}` : source;
    throw new RecipeError(
      `${at}: YAML syntax error: ${syntax.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}`,
    );
  }
  checkTextCutByComment(doc, text, lines, source);
  const data = withGeneratorDefaults(doc.toJS(), generator, drawsScenes);
  const parsed = Recipe.safeParse(data);
  if (!parsed.success) throw new RecipeError(describeRecipeIssue(parsed.error, data, doc, lines, source));
  checkConsistency(parsed.data, source);
  return parsed.data;
}

/** The recipe with its prompt templates and {slot} questions expanded to the lists the engine takes. */
function expandRecipe(recipe: Recipe, source: string): ResolvedRecipe {
  const training = expandPrompts(recipe.prompts, `${source}: prompts`);
  const evaluation = recipe.eval.prompts
    ? expandPrompts(recipe.eval.prompts, `${source}: eval.prompts`)
    : training;
  const questions = askedQuestions(recipe.questions, training, evaluation, source);
  const texts = (list: SlottedPrompt[]) => list.map((p) => p.text);
  return { recipe, prompts: texts(training), evalPrompts: texts(evaluation), questions };
}

/** What the engine's teach job receives: the resolved recipe with its prompts and questions as lists. */
export function teachRecipe({ recipe, prompts, evalPrompts, questions }: ResolvedRecipe): TeachRecipe {
  return { ...recipe, prompts, questions, eval: { ...recipe.eval, prompts: evalPrompts } };
}

/** The recipe with every default filled in, as YAML that loads back to the same recipe. */
export function resolvedRecipeYaml(recipe: Recipe): string {
  return stringify(recipe, { lineWidth: 110 });
}

/**
 * In YAML, " #" starts a comment even in the middle of unquoted text, so `description: colours (#264653 ...)`
 * silently becomes "colours (". A comment whose first character is not a space (a hex colour, "#1") is
 * almost always meant as text: refuse it, in one line, instead of training on a cut-off question.
 */
function checkTextCutByComment(doc: Document, text: string, lines: LineCounter, source: string): void {
  visit(doc, {
    Scalar(_key, node) {
      if (node.type !== Scalar.PLAIN || typeof node.value !== "string" || !node.range) return;
      const end = node.range[1];
      const comment = /[ \t]+#(\S+)/y; // sticky: only right after the text, on the same line
      comment.lastIndex = end;
      const cut = comment.exec(text);
      if (!cut) return;
      const { line, col } = lines.linePos(end);
      throw new RecipeError(
        `${source}:${line}:${col}: "#${cut[1]}" starts a YAML comment, so this text stops at ` +
          `${JSON.stringify(node.value)}; put the whole text in quotes`,
      );
    },
  });
}

function describeRecipeIssue(
  error: z.ZodError,
  data: unknown,
  doc: Document,
  lines: LineCounter,
  source: string,
): string {
  const issue = error.issues[0]!;
  const path = issue.path;
  const at = `${source}:${position(doc, lines, path, issue.code === "unrecognized_keys" ? issue.keys[0] : undefined)}`;
  const field = fieldName(path);
  switch (issue.code) {
    case "unrecognized_keys": {
      const schema = schemaAt(Recipe, path, data);
      const names = schema ? objectKeys(schema) : [];
      const allowed = schema ? names.join(", ") : "see `dualproc recipe fields`";
      const keys = issue.keys.map((k) => `'${k}'`).join(", ");
      const hint = issue.keys.length === 1 ? didYouMean(issue.keys[0]!, names) : "";
      return `${at}: ${field}: unknown key ${keys}${hint} (allowed: ${allowed})`;
    }
    case "invalid_union": {
      if (valueAt(data, path) === undefined) return `${at}: ${field}: required field is missing`;
      // A discriminated union reports its bad tag at .../kind; a plain union at the field itself.
      const unionPath = path[path.length - 1] === "kind" ? path.slice(0, -1) : path;
      const raw = rawSchemaAt(Recipe, unionPath, data);
      const kinds = raw ? unionTags(raw, "kind") : [];
      if (kinds.length > 0) {
        const value = valueAt(data, [...unionPath, "kind"]);
        const hint = typeof value === "string" ? didYouMean(value, kinds) : "";
        return `${at}: ${fieldName(unionPath)}.kind: ${JSON.stringify(value)} is not one of ${kinds.join(", ")}${hint}`;
      }
      // a union that words its own error says it; the prompts' union does not
      if (issue.message !== "Invalid input") return `${at}: ${field}: ${issue.message}`;
      return `${at}: ${field}: expected one prompt, a list of prompts, or {template, slots}`;
    }
    case "invalid_type":
      if (valueAt(data, path) === undefined) return `${at}: ${field}: required field is missing`;
      return `${at}: ${field}: ${issue.message}`;
    case "invalid_value": {
      const value = valueAt(data, path);
      const names = issue.values.filter((v): v is string => typeof v === "string");
      const hint = typeof value === "string" ? didYouMean(value, names) : "";
      return `${at}: ${field}: ${issue.message}${hint}`;
    }
    default:
      return `${at}: ${field}: ${issue.message}`;
  }
}

function fieldName(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(recipe)";
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i > 0 ? "." : ""}${String(p)}`)).join("");
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** line:col of the node at `path` (or of its key `key`), falling back to the nearest existing parent. */
function position(doc: Document, lines: LineCounter, path: readonly PropertyKey[], key?: string): string {
  for (let depth = path.length; depth >= 0; depth--) {
    const node: unknown = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth) as unknown[], true);
    let offset: number | undefined;
    if (key !== undefined && depth === path.length && isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && item.key.value === key);
      offset = isScalar(pair?.key) ? pair.key.range?.[0] : undefined;
    }
    offset ??= (node as { range?: [number, number, number] } | null)?.range?.[0];
    if (offset !== undefined) {
      const { line, col } = lines.linePos(offset);
      return `${line}:${col}`;
    }
  }
  return "1:1";
}

/** Fields that are valid alone but not together: weights, judges, early stopping. */
function checkConsistency(recipe: Recipe, source: string): void {
  if (!recipe.questions.some((q) => q.weight > 0)) {
    throw new RecipeError(`${source}: questions: every weight is 0; give at least one question a weight > 0`);
  }
  if (recipe.co_judges.includes(recipe.judge) || new Set(recipe.co_judges).size < recipe.co_judges.length) {
    throw new RecipeError(
      `${source}: co_judges: each judge may teach once (the training judge is already judge)`,
    );
  }
  if (recipe.heldout_judge !== null && recipe.co_judges.includes(recipe.heldout_judge)) {
    throw new RecipeError(
      `${source}: co_judges: ${recipe.heldout_judge} is the held-out judge; a judge that teaches the LoRA cannot check it`,
    );
  }
  if (recipe.keep.length > 0 && recipe.keep_judge !== null && recipe.keep_judge === recipe.heldout_judge) {
    throw new RecipeError(
      `${source}: keep_judge: ${recipe.keep_judge} is the held-out judge; a judge the LoRA is taught against cannot check it`,
    );
  }
  if (recipe.training.early_stopping_patience !== null && recipe.heldout_judge === null) {
    throw new RecipeError(
      `${source}: training.early_stopping_patience: early stopping watches the held-out judge; set heldout_judge`,
    );
  }
}

/** Every prompt of a template (each with the slot values that made it), or the prompts as given. */
export function expandPrompts(prompts: Recipe["prompts"], where: string): SlottedPrompt[] {
  if (typeof prompts === "string") return [{ text: prompts, slots: {} }];
  if (Array.isArray(prompts)) return prompts.map((text) => ({ text, slots: {} }));
  const names = [...new Set([...prompts.template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))];
  const missing = names.filter((n) => !(n in prompts.slots));
  if (missing.length > 0) {
    throw new RecipeError(`${where}: template uses {${missing[0]}} but slots has no '${missing[0]}'`);
  }
  let expanded: SlottedPrompt[] = [{ text: prompts.template, slots: {} }];
  for (const name of names) {
    expanded = expanded.flatMap(({ text, slots }) =>
      prompts.slots[name]!.map((value) => ({
        text: text.replaceAll(`{${name}}`, value),
        slots: { ...slots, [name]: value },
      })),
    );
    if (expanded.length > MAX_EXPANDED_PROMPTS) {
      throw new RecipeError(`${where}: the template expands to more than ${MAX_EXPANDED_PROMPTS} prompts`);
    }
  }
  return expanded;
}

function checkReferencedFiles(recipe: Recipe, baseDir: string, source: string): void {
  recipe.questions.forEach((q, i) => {
    const kind = q.visual_prompt?.kind;
    const path = q.visual_prompt && "path" in q.visual_prompt ? q.visual_prompt.path : undefined;
    if ((kind === "image" || kind === "palette_from_image") && !existsSync(resolve(baseDir, path!))) {
      throw new RecipeError(
        `${source}: questions[${i}].visual_prompt.path: no file ${path} (relative to the recipe)`,
      );
    }
  });
}

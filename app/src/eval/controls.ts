/**
 * What the measurers can check of a recipe: each question whose visual prompt states a measurable target
 * (a horizon height, a palette, a stroke width) becomes a control with a pass/fail test on a measurement.
 * Tolerances are those of the generator's baseline (docs/generator.md), so the two compare. So does a plain
 * question (no visual prompt) worded as a Scenes question the measurers answer, given its reading (the
 * engine's: world/qa/phrasings.py `scenes_reading`): a sky kind, a time of day, a horizon band. Two points
 * become a control where their question is worded as a Scenes relative-depth question, which says whether it
 * asks "closer" or "farther" (depth.ts measures it); a layout's boxes, by whether something stands in each
 * (layout.ts; which thing is not read).
 */
import type { Overlay } from "../protocol/overlay.js";
import { ciede2000, hexToLab } from "./measurers/colour.js";
import { comparePoints, type Point } from "./measurers/depth.js";
import { boxCoverage, LAYOUT_COVERAGE, type Box } from "./measurers/layout.js";
import type { Measurement, SceneKind } from "./measurers/index.js";
import type { SkyKind } from "./measurers/sky.js";
import type { RGBImage } from "./measurers/types.js";

export const HORIZON_TOLERANCE = 0.03;
/** Palette adherence (weighted CIEDE2000 from the image's colours to the nearest given colour). */
export const PALETTE_TOLERANCE = 10;
/**
 * A palette is used, not just one of its colours: at least this many given colours (all of them when fewer
 * are given) must each cover PALETTE_MIN_SHARE of the image. A LoRA taught against the embedded judge washed
 * whole images in one of five given colours, which adherence alone counts as a success. 80% of renders
 * painted in a random five-colour palette pass both rules (90% adherence alone; docs/eval.md).
 */
export const PALETTE_MIN_COLOURS = 2;
export const PALETTE_MIN_SHARE = 0.05;
/** Stroke width tolerance in px at 64 px, scaled with the image. */
export const STROKE_TOLERANCE_PX = 0.5;

/** One rule a measured image must meet: pass or fail, null when the measurer found nothing to measure. */
export interface Check {
  /** For people: "adherence <= 10 CIEDE2000". */
  label: string;
  /** `image`: the measured image itself, for the rules a measurement alone cannot decide (depth at points). */
  passes(m: Measurement, image: RGBImage): boolean | null;
}

export interface Control extends Check {
  /** The attribute it controls: what drift leaves out. */
  attribute: "horizon" | "palette" | "stroke" | "sky" | "depth" | "layout";
  /** Index of the recipe question that states it. */
  question: number;
  /** What it asks for: the questions with the same target (`targetOf`) state the same control. */
  target: string;
  /**
   * The truth its question wants: false for a wanted "No", the opposite of what the question states (a
   * contrast beside a recipe's own target, "as thick as this 1 px stroke? No", or a control on its own,
   * "is the sky overcast? No").
   */
  wanted: boolean;
  /** For people: "horizon at 30% of the height (+-0.03)". `passes`: all of `checks`. */
  label: string;
  /**
   * The rules it is made of where there are several (a palette: its colours, and enough of them), reported
   * one by one so that a failed control says which rule failed; empty for a single rule.
   */
  checks: Check[];
  /**
   * Reported beside the rules, not required by them: a palette's colours one by one (each on
   * PALETTE_MIN_SHARE of the image), so that a report shows which given colours a LoRA uses and which it
   * leaves out. Empty for other controls.
   */
  details: Check[];
}

/** What a question asks in the Scenes world, where it is worded as one of its phrasings (the engine's). */
export interface SceneReading {
  family: string;
  variant: string | null;
}

interface QuestionLike {
  question?: string;
  answer?: string;
  visual_prompt?: unknown;
  /** Set on a question asked with a pair of a palette question's colours (recipes/palette-pairs.ts). */
  pair_of?: number;
}

/**
 * One control per distinct measurable visual prompt: phrasings of one target are one control, while a recipe
 * whose questions set different targets for different prompts (`when`: a high horizon at night, a low one
 * by day) gets one control per target, each measured on the images it was asked of (summary.ts). A palette
 * question's pair questions (`pair_of`) are not controls: its own control measures the whole palette.
 */
export function controlsOf(
  questions: readonly QuestionLike[],
  readings: readonly (SceneReading | null)[] = [],
): Control[] {
  const controls: Control[] = [];
  const targets = new Set<string>();
  questions.forEach((q, i) => {
    if (q.pair_of !== undefined) return; // a way of teaching its palette, measured by the palette's control
    const target = targetOf(q, readings[i] ?? null);
    const control = q.visual_prompt
      ? promptControl(
          q.visual_prompt as Overlay | { kind: string },
          q.answer ?? "Yes",
          i,
          target,
          readings[i],
        )
      : readingControl(readings[i] ?? null, q.answer ?? "Yes", i, target);
    if (control && !targets.has(target)) {
      targets.add(target);
      controls.push(control);
    }
  });
  return controls;
}

/**
 * What a question asks for: its visual prompt (with its wanted answer unless that is Yes: "not at 50%" is
 * another target than "at 50%"), or (a plain question) its Scenes reading and wanted answer.
 */
export function targetOf(q: QuestionLike, reading: SceneReading | null): string {
  const answer = q.answer ?? "Yes";
  // two points are asked "closer" or "farther": the question's words say which
  const relation = depthRelation(q.visual_prompt, reading);
  if (relation) return JSON.stringify({ visual_prompt: q.visual_prompt, relation, answer });
  if (q.visual_prompt || !reading)
    return wantedTruth(answer) === true
      ? JSON.stringify(q.visual_prompt)
      : JSON.stringify({ visual_prompt: q.visual_prompt, answer });
  return JSON.stringify({ ...reading, answer });
}

/**
 * The truth a wanted answer asks for: Yes (any case) that the question holds, No that it does not; any
 * other answer (an open one, "Maybe") states no pass/fail rule a measurer could check.
 */
export function wantedTruth(answer: string): boolean | null {
  const word = answer.trim().toLowerCase();
  return word === "yes" ? true : word === "no" ? false : null;
}

/** A time of day as the sky kinds that show it (world/qa/sky.py TIME_OF_DAY). */
const TIME_OF_DAY_SKIES: Record<string, SkyKind[]> = {
  day: ["day", "overcast"],
  evening: ["sunset"],
  night: ["night"],
};
/** The horizon bands of the Scenes questions, by the horizon's height from the top (world/qa/horizon.py). */
const HORIZON_BANDS: Record<string, { label: string; within: (horizon: number) => boolean; centre: number }> =
  {
    high: { label: "upper", within: (h) => h < 1 / 3, centre: 1 / 6 },
    middle: { label: "middle", within: (h) => h >= 1 / 3 && h <= 2 / 3, centre: 1 / 2 },
    low: { label: "lower", within: (h) => h > 2 / 3, centre: 5 / 6 },
  };

/** What the measurers read of a plain question's reading: the sky kinds that show it, or its horizon band. */
function measuredOf(
  reading: SceneReading | null,
): { skies: SkyKind[] } | { band: (typeof HORIZON_BANDS)[string] } | null {
  if (!reading?.variant) return null;
  if (reading.family === "sky") return { skies: [reading.variant as SkyKind] };
  const skies = reading.family === "time_of_day" ? TIME_OF_DAY_SKIES[reading.variant] : undefined;
  if (skies) return { skies };
  const band = reading.family === "horizon_band" ? HORIZON_BANDS[reading.variant] : undefined;
  return band ? { band } : null;
}

/**
 * What a rendered scene needs set to pass a plain question's control (the drift floor's twin): the sky kind
 * or the horizon at the middle of its band. None for a wanted "No" (no one scene is "not night") or a
 * question the measurers do not answer.
 */
export function plainTwin(
  reading: SceneReading | null,
  answer: string,
): { sky: SkyKind } | { horizon: number } | null {
  const measured = wantedTruth(answer) === true ? measuredOf(reading) : null;
  if (!measured) return null;
  return "skies" in measured ? { sky: measured.skies[0]! } : { horizon: measured.band.centre };
}

/**
 * A plain Yes/No question the measurers answer: a sky kind, a time of day (its sky kinds), a horizon band.
 * Wanted "No" is the control of its opposite ("not night"). Any other question: null.
 */
function readingControl(
  reading: SceneReading | null,
  answer: string,
  question: number,
  target: string,
): Control | null {
  const wanted = wantedTruth(answer);
  const measured = wanted === null ? null : measuredOf(reading);
  if (wanted === null || !measured || !reading?.variant) return null;
  const not = wanted ? "" : "not ";
  const plain = { question, target, wanted, checks: [], details: [] };
  if ("skies" in measured) {
    const { skies } = measured;
    const label =
      reading.family === "sky"
        ? `sky kind ${not}${reading.variant}`
        : `time of day ${not}${reading.variant} (sky kind ${skies.join(" or ")})`;
    return {
      ...plain,
      attribute: "sky",
      label,
      passes: (m) => (m.sky === null ? null : skies.includes(m.sky) === wanted),
    };
  }
  const { band } = measured;
  return {
    ...plain,
    attribute: "horizon",
    label: `horizon ${not}in the ${band.label} third of the height`,
    passes: (m) => (m.horizon === null ? null : band.within(m.horizon) === wanted),
  };
}

/**
 * A visual prompt's control for its wanted answer: Yes, what the prompt states; No, its opposite (a stroke
 * sample asked with "No" wants lines of another width; a red line at 50% with "No", a horizon elsewhere).
 * Contrastive questions ("as thick as this 1 px stroke? No") are controls of their own, measured as such.
 */
function promptControl(
  prompt: Overlay | { kind: string },
  answer: string,
  question: number,
  target: string,
  reading: SceneReading | null | undefined,
): Control | null {
  const wanted = wantedTruth(answer);
  const control = wanted === null ? null : controlFor(prompt, question, target, reading ?? null);
  return control && !wanted ? opposite(control) : control;
}

/**
 * The kind of picture a control's measurer reads (the measurers guess each image's kind from its pixels): a
 * stroke width is read on line art only, a horizon, a sky, depth and a layout on landscapes only; a palette
 * on either (null).
 */
export function kindRead(attribute: Control["attribute"]): SceneKind | null {
  if (attribute === "stroke") return "lineart";
  return attribute === "palette" ? null : "landscape";
}

/** The control that passes where `control` fails (unmeasured stays unmeasured). */
function opposite(control: Control): Control {
  return {
    ...control,
    wanted: false,
    label: `not ${control.label}`,
    passes: (m, image) => {
      const outcome = control.passes(m, image);
      return outcome === null ? null : !outcome;
    },
    // its rules and colours say why "at 30%" failed; a "not at 30%" passes by failing any of them
    checks: [],
    details: [],
  };
}

/**
 * What a two-point question asks, by its Scenes reading: "closer" (is A nearer than B?) or "farther"; null
 * for other prompts, and for a wording that is not a Scenes relative-depth phrasing (its relation unknown).
 */
export function depthRelation(prompt: unknown, reading: SceneReading | null): "closer" | "farther" | null {
  const points = (prompt as { kind?: string } | null | undefined)?.kind === "points";
  if (!points || reading?.family !== "relative_depth") return null;
  return reading.variant === "closer" || reading.variant === "farther" ? reading.variant : null;
}

function controlFor(
  prompt: Overlay | { kind: string },
  question: number,
  target: string,
  reading: SceneReading | null,
): Control | null {
  if (!("kind" in prompt)) return null;
  const p = prompt as Overlay;
  const relation = depthRelation(p, reading);
  if (p.kind === "points" && relation) return depthControl(p.a, p.b, relation, question, target);
  if (p.kind === "layout") return layoutControl(p.boxes, question, target);
  if (p.kind === "horizon") {
    return {
      attribute: "horizon",
      question,
      target,
      wanted: true,
      label: `horizon at ${Math.round(p.y * 100)}% of the height (+-${HORIZON_TOLERANCE})`,
      passes: (m) => (m.horizon === null ? null : Math.abs(m.horizon - p.y) <= HORIZON_TOLERANCE),
      checks: [],
      details: [],
    };
  }
  if (p.kind === "palette") {
    const needed = Math.min(PALETTE_MIN_COLOURS, p.colors.length);
    const checks: Check[] = [
      {
        label: `adherence <= ${PALETTE_TOLERANCE} CIEDE2000`,
        passes: (m) => (m.palette.length === 0 ? null : paletteAdherence(m, p.colors) <= PALETTE_TOLERANCE),
      },
      {
        label: `${needed}+ of its colours on ${100 * PALETTE_MIN_SHARE}% each`,
        passes: (m) => (m.palette.length === 0 ? null : coloursUsed(m, p.colors) >= needed),
      },
    ];
    return {
      attribute: "palette",
      question,
      target,
      wanted: true,
      label: `palette ${p.colors.join(" ")} (${checks.map((c) => c.label).join(", ")})`,
      passes: allOf(checks),
      checks,
      details: p.colors.map((hex, i) => ({
        label: `${hex} on ${100 * PALETTE_MIN_SHARE}%`,
        passes: (m) => (m.palette.length === 0 ? null : colourShares(m, p.colors)[i]! >= PALETTE_MIN_SHARE),
      })),
    };
  }
  if (p.kind === "stroke") {
    return {
      attribute: "stroke",
      question,
      target,
      wanted: true,
      label: `stroke width ${p.width_px} px at 64 px (+-${STROKE_TOLERANCE_PX})`,
      passes: (m, image) =>
        m.stroke_width_px === null
          ? null
          : Math.abs((m.stroke_width_px * 64) / image.width - p.width_px) <= STROKE_TOLERANCE_PX,
      checks: [],
      details: [],
    };
  }
  return null; // points in other words and reference images: no measurer applies
}

/** "Does the image follow the layout?" measured as something standing in each box (its kind not read). */
function layoutControl(layout: readonly { box: Box }[], question: number, target: string): Control {
  const boxes = layout.map((b) => b.box);
  return {
    attribute: "layout",
    question,
    target,
    wanted: true,
    label: `an object in each of the ${boxes.length} boxes (${100 * LAYOUT_COVERAGE}% covered; kinds not read)`,
    passes: (m, image) => boxCoverage(image, m, boxes)?.every((c) => c >= LAYOUT_COVERAGE) ?? null,
    checks: [],
    details: [],
  };
}

/** "Is A closer to (farther from) the viewer than B?" measured by ground-plane depth (depth.ts). */
function depthControl(
  a: Point,
  b: Point,
  relation: "closer" | "farther",
  question: number,
  target: string,
): Control {
  const [near, far] = relation === "closer" ? [a, b] : [b, a];
  return {
    attribute: "depth",
    question,
    target,
    wanted: true,
    label: `point A ${relation === "closer" ? "nearer" : "farther"} than point B (ground-plane depth)`,
    passes: (m, image) => comparePoints(image, m, near, far)?.aNearer ?? null,
    checks: [],
    details: [],
  };
}

/** Passes when every check passes; null when any could not be measured. */
function allOf(checks: readonly Check[]): Check["passes"] {
  return (m, image) => {
    const outcomes = checks.map((c) => c.passes(m, image));
    return outcomes.includes(null) ? null : outcomes.every(Boolean);
  };
}

/**
 * How far an image's colours are from a given palette: the share-weighted CIEDE2000 from each measured
 * dominant colour to its nearest given colour (0 when every colour is a given one; unused given colours
 * cost nothing).
 */
export function paletteAdherence(m: Measurement, colors: readonly string[]): number {
  const targets = colors.map(hexToLab);
  let total = 0;
  let weight = 0;
  for (const c of m.palette) {
    total += c.weight * Math.min(...targets.map((t) => ciede2000(c.lab, t)));
    weight += c.weight;
  }
  return total / weight;
}

/**
 * How many given colours the image uses: a given colour counts when it covers at least PALETTE_MIN_SHARE of
 * the image (`colourShares`).
 */
export function coloursUsed(m: Measurement, colors: readonly string[]): number {
  return colourShares(m, colors).filter((s) => s >= PALETTE_MIN_SHARE).length;
}

/**
 * The share of the image each given colour covers: the measured dominant colours nearest to it (within
 * PALETTE_TOLERANCE) together; a colour further than that from every given one counts for none.
 */
export function colourShares(m: Measurement, colors: readonly string[]): number[] {
  const targets = colors.map(hexToLab);
  const share = targets.map(() => 0);
  const total = m.palette.reduce((sum, c) => sum + c.weight, 0);
  for (const c of m.palette) {
    const distances = targets.map((t) => ciede2000(c.lab, t));
    const nearest = distances.indexOf(Math.min(...distances));
    if (distances[nearest]! <= PALETTE_TOLERANCE) share[nearest]! += c.weight / total;
  }
  return share;
}

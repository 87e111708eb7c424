/**
 * What the measurers can check of a recipe: each question whose visual prompt states a measurable target
 * (a horizon height, a palette, a stroke width) becomes a control with a pass/fail test on a measurement.
 * Tolerances are those of the generator's baseline (docs/generator.md), so the two compare.
 */
import type { Overlay } from "../protocol/overlay.js";
import { ciede2000, hexToLab } from "./measurers/colour.js";
import type { Measurement } from "./measurers/index.js";

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
  passes(m: Measurement, widthPx: number): boolean | null;
}

export interface Control extends Check {
  /** The attribute it controls: what drift leaves out. */
  attribute: "horizon" | "palette" | "stroke";
  /** Index of the recipe question that states it. */
  question: number;
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

interface QuestionLike {
  question?: string;
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
export function controlsOf(questions: readonly QuestionLike[]): Control[] {
  const controls: Control[] = [];
  const targets = new Set<string>();
  questions.forEach((q, i) => {
    if (q.pair_of !== undefined) return; // a way of teaching its palette, measured by the palette's control
    const control = controlFor(q.visual_prompt as Overlay | { kind: string } | null | undefined, i);
    const target = JSON.stringify(q.visual_prompt);
    if (control && !targets.has(target)) {
      targets.add(target);
      controls.push(control);
    }
  });
  return controls;
}

function controlFor(prompt: Overlay | { kind: string } | null | undefined, question: number): Control | null {
  if (!prompt || !("kind" in prompt)) return null;
  const p = prompt as Overlay;
  if (p.kind === "horizon") {
    return {
      attribute: "horizon",
      question,
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
      label: `stroke width ${p.width_px} px at 64 px (+-${STROKE_TOLERANCE_PX})`,
      passes: (m, widthPx) =>
        m.stroke_width_px === null
          ? null
          : Math.abs((m.stroke_width_px * 64) / widthPx - p.width_px) <= STROKE_TOLERANCE_PX,
      checks: [],
      details: [],
    };
  }
  return null; // points, layouts and reference images: no measurer applies
}

/** Passes when every check passes; null when any could not be measured. */
function allOf(checks: readonly Check[]): Check["passes"] {
  return (m, widthPx) => {
    const outcomes = checks.map((c) => c.passes(m, widthPx));
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

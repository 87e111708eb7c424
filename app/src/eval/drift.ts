/**
 * Drift: how often an attribute the recipe does not control changed between an image and its twin (the
 * same prompt and seed) drawn with the LoRA. A taught control should move its attribute and leave the
 * rest alone; each check counts a change only beyond what the measurers resolve.
 */
import { bootstrapMean, type Interval } from "./bootstrap.js";
import type { Measurement } from "./measurers/index.js";
import { paletteDistance } from "./measurers/palette-distance.js";

export const DRIFT_THRESHOLDS = {
  horizon: 0.05,
  palette: 10,
  stroke_px: 1,
};

export interface DriftCheck {
  attribute: string;
  /** For people: what counts as a change. */
  label: string;
  /** The attributes whose controls move it on purpose (with any of them, this check is left out). */
  controlledBy: readonly string[];
  /** 1 changed, 0 unchanged, null when either image gives nothing to compare. */
  changed(before: Measurement, after: Measurement, widthPx: number): 0 | 1 | null;
}

const bit = (b: boolean): 0 | 1 => (b ? 1 : 0);

export const DRIFT_CHECKS: DriftCheck[] = [
  {
    attribute: "horizon",
    label: `horizon moved by more than ${DRIFT_THRESHOLDS.horizon} of the height`,
    controlledBy: ["horizon"],
    changed: (a, b) =>
      a.horizon === null || b.horizon === null
        ? null
        : bit(Math.abs(a.horizon - b.horizon) > DRIFT_THRESHOLDS.horizon),
  },
  {
    attribute: "sky",
    label: "sky kind (day, sunset, night, overcast) changed",
    controlledBy: ["sky"],
    changed: (a, b) => (a.sky === null || b.sky === null ? null : bit(a.sky !== b.sky)),
  },
  {
    attribute: "palette",
    label: `palette distance above ${DRIFT_THRESHOLDS.palette} CIEDE2000`,
    controlledBy: ["palette"],
    changed: (a, b) =>
      a.palette.length === 0 || b.palette.length === 0
        ? null
        : bit(
            paletteDistance(
              a.palette.slice(0, 8).map((c) => c.lab),
              b.palette.slice(0, 8).map((c) => c.lab),
            ) > DRIFT_THRESHOLDS.palette,
          ),
  },
  {
    attribute: "objects",
    label: "number of objects found changed",
    // putting something nearer at a point, or objects in boxes, adds, moves or merges objects
    controlledBy: ["depth", "layout"],
    changed: (a, b) => bit(a.objects.length !== b.objects.length),
  },
  {
    attribute: "stroke",
    label: `stroke width changed by more than ${DRIFT_THRESHOLDS.stroke_px} px at 64 px`,
    controlledBy: ["stroke"],
    changed: (a, b, widthPx) =>
      a.stroke_width_px === null || b.stroke_width_px === null
        ? null
        : bit((Math.abs(a.stroke_width_px - b.stroke_width_px) * 64) / widthPx > DRIFT_THRESHOLDS.stroke_px),
  },
];

/** One image and its twin, measured; `widthPx` is the image's side (for the stroke check's unit). */
export interface MeasuredPair {
  before: Measurement;
  after: Measurement;
  widthPx: number;
}

export interface DriftRate {
  attribute: string;
  label: string;
  /** Share of the pairs where it changed (pairs the check cannot compare are left out). */
  rate: Interval | null;
}

/** Each drift check's rate over the pairs, leaving out the checks of the attributes a control moves. */
export function driftRates(pairs: readonly MeasuredPair[], controlled: ReadonlySet<string>): DriftRate[] {
  return DRIFT_CHECKS.filter((d) => !d.controlledBy.some((a) => controlled.has(a))).map((d) => {
    const changed = pairs
      .map((p) => d.changed(p.before, p.after, p.widthPx))
      .filter((v): v is 0 | 1 => v !== null);
    return { attribute: d.attribute, label: d.label, rate: bootstrapMean(changed) };
  });
}

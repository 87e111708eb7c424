/**
 * The drift floor: how often each drift check fires when only the control acts. On the embedded Scenes
 * world the engine can render a batch of scenes and their exact twins with just the controlled attribute set
 * (the horizon moved to the recipe's height, the strokes at its width, the palette to its colours, for two
 * points the horizons that hide the nearer one lowered below it: `depthTwinHorizon`); the drift
 * checks on those pairs are what a perfect control would show. Objects stand on the horizon, so moving it
 * moves them; the share of sky changes the dominant colours. A taught LoRA's drift is read against this.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Overlay } from "../protocol/overlay.js";
import { readImage } from "../images/read.js";
import { depthRelation, plainTwin, wantedTruth, type SceneReading } from "./controls.js";
import { driftRates, type DriftRate } from "./drift.js";
import { measure, type Measurement } from "./measurers/index.js";
import type { SkyKind } from "./measurers/sky.js";
import type { RGBImage } from "./measurers/types.js";

/** The Scenes world paints with 4 to 6 colours; a recipe palette of another size has no rendered twin. */
const SCENES_PALETTE = (n: number) => n >= 4 && n <= 6;
/** The lowest horizon the Scenes world draws (world/attributes.py HORIZON_RANGE). */
const HORIZON_LOWEST = 0.1;

/**
 * How far above a relative-depth control's nearer point its twin's horizon must stay for the point to stand on
 * the ground: a horizon tilted by up to 4 degrees rises by up to 0.035 of the side across half the picture,
 * and the depth measurer takes the horizon's own blended rows for sky.
 */
export const DEPTH_FLOOR_MARGIN = 0.08;

export interface FloorScenes {
  kind: "landscape" | "lineart" | null;
  fixed: {
    horizon?: number;
    horizon_max?: number;
    stroke_width_px?: number;
    palette?: string[];
    sky?: SkyKind;
  };
  /** The attributes the fixes control: their own drift checks are left out. */
  controlled: Set<string>;
}

/**
 * What to render for the floor of a recipe's controls, or null when none of its questions is measurable. A
 * plain question counts by its Scenes reading (`readings`, per question): a sky kind or a horizon band.
 */
export function floorScenes(
  questions: readonly { visual_prompt?: unknown; answer?: string }[],
  readings: readonly (SceneReading | null)[] = [],
): FloorScenes | null {
  const floor: FloorScenes = { kind: null, fixed: {}, controlled: new Set() };
  for (const [i, q] of questions.entries()) {
    const p = q.visual_prompt as Overlay | null | undefined;
    // a wanted "No" ("is the line at 50%? No") has no one twin: no single scene is "not at 50%"
    if (!p || !("kind" in p) || wantedTruth(q.answer ?? "Yes") !== true) continue;
    // a horizon needs landscapes and a stroke width line art: the first of the two decides the kind
    if (p.kind === "horizon" && floor.fixed.horizon === undefined && floor.kind !== "lineart") {
      floor.fixed.horizon = p.y;
      floor.kind ??= "landscape";
      floor.controlled.add("horizon");
    } else if (
      p.kind === "stroke" &&
      floor.fixed.stroke_width_px === undefined &&
      floor.kind !== "landscape"
    ) {
      floor.fixed.stroke_width_px = p.width_px;
      floor.kind ??= "lineart";
      floor.controlled.add("stroke");
    } else if (p.kind === "palette" && floor.fixed.palette === undefined && SCENES_PALETTE(p.colors.length)) {
      floor.fixed.palette = [...p.colors];
      floor.controlled.add("palette");
    } else if (p.kind === "points" && floor.fixed.horizon_max === undefined && floor.kind !== "lineart") {
      const most = depthTwinHorizon(p.a, p.b, depthRelation(p, readings[i] ?? null));
      if (most === null) continue;
      floor.fixed.horizon_max = most;
      floor.kind ??= "landscape";
      floor.controlled.add("depth");
    }
  }
  // then the plain questions, which a visual prompt's target outranks: a sky kind, a horizon band (landscapes)
  for (const [i, q] of questions.entries()) {
    const twin = q.visual_prompt ? null : plainTwin(readings[i] ?? null, q.answer ?? "Yes");
    if (!twin || floor.kind === "lineart") continue;
    if ("sky" in twin && floor.fixed.sky === undefined) {
      floor.fixed.sky = twin.sky;
      floor.controlled.add("sky");
    } else if ("horizon" in twin && floor.fixed.horizon === undefined) {
      floor.fixed.horizon = twin.horizon;
      floor.controlled.add("horizon");
    } else continue;
    floor.kind = "landscape";
  }
  return floor.controlled.size > 0 ? floor : null;
}

/**
 * The highest horizon at which a relative-depth control holds by ground-plane depth, when lowering the
 * horizon is how a Scenes twin gets it: the nearer point must stand on the ground, below the horizon, and
 * lower in the picture than the farther one (on the ground or in the sky above it). The twin keeps every
 * horizon below that and lowers the others to it: the least change of the scene that makes the control
 * hold. Null where it cannot (the nearer point is the higher one, or the relation is not known).
 */
export function depthTwinHorizon(
  a: readonly [number, number],
  b: readonly [number, number],
  relation: "closer" | "farther" | null,
): number | null {
  if (relation === null) return null;
  const [near, far] = relation === "closer" ? [a, b] : [b, a];
  if (near[1] <= far[1]) return null;
  const most = near[1] - DEPTH_FLOOR_MARGIN;
  return most >= HORIZON_LOWEST ? Math.round(most * 1000) / 1000 : null;
}

/** A render of the floor, measured. */
export interface MeasuredRender {
  file: string;
  measurement: Measurement;
  image: RGBImage;
}

/** The renders of a folder `dualproc world render` wrote, in its order, each measured. */
export function measuredRenders(dir: string): MeasuredRender[] {
  return readFileSync(join(dir, "attributes.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => {
      const file = join(dir, (JSON.parse(line) as { file: string }).file);
      const image = readImage(file);
      return { file, measurement: measure(image), image };
    });
}

/** The drift checks on rendered twins: the plain renders and their twins with only the control set. */
export function floorRates(
  before: readonly MeasuredRender[],
  after: readonly MeasuredRender[],
  controlled: ReadonlySet<string>,
): DriftRate[] {
  if (before.length !== after.length) throw new Error("drift floor: the two renders differ in length");
  const pairs = before.map((b, i) => ({
    before: b.measurement,
    after: after[i]!.measurement,
    widthPx: b.image.width,
  }));
  return driftRates(pairs, controlled);
}

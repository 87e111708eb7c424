/**
 * Depth measurer: how far from the viewer the surface seen at a point is, by ground-plane perspective, the
 * Scenes world's own definition of depth (docs/world-contract.md: an object's distance is
 * `(1 - horizon) / (base_y - horizon_y(base_x))`, 1 for a base on the bottom edge, growing toward the horizon).
 *
 * - The ground at a point is as far as its own row says.
 * - An object is as far as the row where it meets the ground: from the point, walk down the column through
 *   object pixels (objects.ts) to the first background row below them. A tree's canopy reaches the ground
 *   through its trunk; a person standing in front of a house makes the house above them as near as they are
 *   (the measurer cannot see the hidden base), which errs toward "as near".
 * - The sky, and what meets nothing below the horizon (a mountain, the sun), is infinitely far.
 *
 * Depths compare only in order ("is A nearer than B?"); their scale means nothing on its own.
 */
import type { Measurement } from "./index.js";
import { horizonRow, landscapeLine, landscapeObjectMask, lineMargin, type Line } from "./objects.js";
import type { RGBImage } from "./types.js";

/** A point as fractions of the image side, [x, y] from the top-left (the visual prompts' convention). */
export type Point = readonly [number, number];

/** Background rows an object may skip on the way down (at 64 px): texture and antialiasing break its mask. */
const GAP_PX = 1;

/** The depth of what is seen at each point of a landscape whose horizon is `line`. */
export function measureDepths(img: RGBImage, line: Line, points: readonly Point[]): number[] {
  const { mask } = landscapeObjectMask(img, line);
  return points.map((p) => depthAt(img, line, mask, p));
}

function depthAt(img: RGBImage, line: Line, mask: Uint8Array, [fx, fy]: Point): number {
  const { width: w, height: h } = img;
  const x = Math.min(w - 1, Math.max(0, Math.floor(fx * w)));
  const y = Math.min(h - 1, Math.max(0, Math.floor(fy * h)));
  const onObject = mask[y * w + x] === 1;
  // the row (in pixels, from the top) where what is seen here stands on the ground
  const base = onObject ? objectBase(mask, w, h, x, y) : y + 0.5;
  const horizon = horizonRow(line, w, h)(x);
  if (!onObject && base <= horizon + lineMargin(h)) return Infinity; // sky, or the horizon's own blend
  return groundDepth(line, h, base, horizon);
}

/** The first row below the object pixels that run down from (x, y), allowing gaps of GAP_PX. */
function objectBase(mask: Uint8Array, w: number, h: number, x: number, y: number): number {
  const gap = Math.max(1, Math.round((GAP_PX * h) / 64));
  let last = y;
  for (let row = y + 1; row < h && row - last <= gap + 1; row++) if (mask[row * w + x]) last = row;
  return last + 1;
}

/** Ground-plane depth of a point standing on row `base` (pixels) where the horizon is at row `horizon`. */
function groundDepth(line: Line, h: number, base: number, horizon: number): number {
  const below = (base - horizon) / h;
  return below > 0 ? (1 - line.horizon) / below : Infinity;
}

/** Depths within this factor of each other stand on the same row as far as 64 px can tell: a tie. */
const TIE_RATIO = 1.02;

/**
 * Whether what is seen at point `a` is nearer to the viewer than what is seen at `b`, given their depths. On
 * a tie (both stand on the same row) the lower point is the nearer: where one object hides
 * the base of another behind it (a mountain behind a tree), the walk down finds the front one's base for both,
 * and the hidden one shows above it.
 */
export function isNearer(a: Point, depthA: number, b: Point, depthB: number): boolean {
  if (depthA === Infinity) return false; // the sky is nearer than nothing, even another patch of sky
  const tie = Math.max(depthA, depthB) / Math.min(depthA, depthB) <= TIE_RATIO;
  return tie ? a[1] > b[1] : depthA < depthB;
}

/** Depths at two points and whether A is the nearer. */
export interface PointComparison {
  depthA: number;
  depthB: number;
  aNearer: boolean;
}

/**
 * Points A and B of a measured image: their depths and whether A is the nearer; null where the image is no
 * landscape with a horizon found (nothing to stand on).
 */
export function comparePoints(
  img: RGBImage,
  m: Pick<Measurement, "kind" | "horizon" | "horizon_tilt_deg">,
  a: Point,
  b: Point,
): PointComparison | null {
  return comparePointPairs(img, m, [{ a, b }])?.[0] ?? null;
}

/** `comparePoints` for several pairs of one image, its object mask found once. */
export function comparePointPairs(
  img: RGBImage,
  m: Pick<Measurement, "kind" | "horizon" | "horizon_tilt_deg">,
  pairs: readonly { a: Point; b: Point }[],
): PointComparison[] | null {
  const line = landscapeLine(m);
  if (!line) return null;
  const depths = measureDepths(
    img,
    line,
    pairs.flatMap(({ a, b }) => [a, b]),
  );
  return pairs.map(({ a, b }, i) => {
    const [depthA, depthB] = [depths[2 * i]!, depths[2 * i + 1]!];
    return { depthA, depthB, aNearer: isNearer(a, depthA, b, depthB) };
  });
}

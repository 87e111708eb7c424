/**
 * Layout measurer: does something stand in each box of an annotated layout? The share of each box that the
 * landscape object mask (objects.ts) covers. What stands there is not read: a box labelled "tree" with a
 * house in it counts, so this checks where objects are, never which objects they are.
 *
 * On held-out renders (docs/measurers.md), with a layout passing where every box is covered to
 * LAYOUT_COVERAGE: 85% of the layouts that fit the scene pass, 86% of those with a box moved off its object
 * fail, and 17% of those with two labels swapped fail (the kinds are not read).
 */
import type { Measurement } from "./index.js";
import { landscapeLine, landscapeObjectMask } from "./objects.js";
import type { RGBImage } from "./types.js";

/** [x0, y0, x1, y1] as fractions of the image side. */
export type Box = readonly [number, number, number, number];

/** Least share of a box the object pixels must cover for something to stand there. */
export const LAYOUT_COVERAGE = 0.3;

/** The share of each box covered by object pixels, on a measured landscape; null without a horizon. */
export function boxCoverage(
  img: RGBImage,
  m: Pick<Measurement, "kind" | "horizon" | "horizon_tilt_deg">,
  boxes: readonly Box[],
): number[] | null {
  const line = landscapeLine(m);
  if (!line) return null;
  const { width: w, height: h } = img;
  const { mask } = landscapeObjectMask(img, line);
  return boxes.map(([x0, y0, x1, y1]) => {
    let covered = 0;
    let total = 0;
    for (let y = Math.floor(y0 * h); y < Math.min(h, Math.ceil(y1 * h)); y++)
      for (let x = Math.floor(x0 * w); x < Math.min(w, Math.ceil(x1 * w)); x++) {
        total++;
        covered += mask[y * w + x]!;
      }
    return total > 0 ? covered / total : 0;
  });
}

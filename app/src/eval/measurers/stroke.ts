/**
 * Stroke-width measurer for line art (outlines on a light paper background).
 *
 * The width of a stroke is the integral of ink coverage across it: for an antialiased stroke of width w,
 * integral(alpha along the normal) = w exactly, whatever the sub-pixel position, so the estimate is
 * continuous rather than a count of pixels. Coverage is that of the outline colour (outline.ts), so
 * fills do not count. We take the integral at every skeleton pixel of the outline mask, along the
 * normal given by the local structure tensor, and report the lowest well-populated mode (lowestMode):
 * corners, junctions, and arms of small shapes that are all ink only ever lengthen a cross-section.
 */
import { bilinear } from "./filters.js";
import { neighbourCount, thin } from "./components.js";
import { outlineMap } from "./outline.js";
import type { RGBImage } from "./types.js";

export type StrokeResult = {
  stroke_width_px: number;
  /** Number of skeleton cross-sections measured. */
  samples: number;
  /** Share of samples within 25% of the estimate: low when widths vary or the mask is not line art. */
  confidence: number;
};

/** Unit normal to the stroke at (x, y): principal eigenvector of the structure tensor of alpha. */
function strokeNormal(
  alpha: Float32Array,
  w: number,
  h: number,
  x: number,
  y: number,
  r: number,
): [number, number] {
  let jxx = 0,
    jxy = 0,
    jyy = 0;
  for (let yy = Math.max(1, y - r); yy <= Math.min(h - 2, y + r); yy++) {
    for (let xx = Math.max(1, x - r); xx <= Math.min(w - 2, x + r); xx++) {
      const gx = ((alpha[yy * w + xx + 1] as number) - (alpha[yy * w + xx - 1] as number)) / 2;
      const gy = ((alpha[(yy + 1) * w + xx] as number) - (alpha[(yy - 1) * w + xx] as number)) / 2;
      jxx += gx * gx;
      jxy += gx * gy;
      jyy += gy * gy;
    }
  }
  const theta = 0.5 * Math.atan2(2 * jxy, jxx - jyy);
  return [Math.cos(theta), Math.sin(theta)];
}

/**
 * Integral of alpha from the skeleton point outwards in one direction over a fixed length. Alpha is not
 * clipped at 0 and there is no low cut-off, so zero-mean noise on the paper beside the stroke adds no
 * bias; the walk stops early only where coverage clearly rises again after falling (the next stroke).
 */
function halfIntegral(
  alpha: Float32Array,
  w: number,
  h: number,
  cx: number,
  cy: number,
  nx: number,
  ny: number,
  maxLen: number,
): number {
  const step = 0.25;
  let sum = 0;
  let low = Infinity;
  for (let t = step / 2; t < maxLen; t += step) {
    // Pixel centres are at integer + 0.5; bilinear() works on pixel indices.
    const a = bilinear(alpha, w, h, cx + nx * t - 0.5, cy + ny * t - 0.5);
    if (low < 0.3 && a > low + 0.25) break;
    low = Math.min(low, a);
    sum += a * step;
  }
  return sum;
}

/** Width samples at skeleton pixels with exactly two skeleton neighbours (no ends, no junctions). */
export function strokeSamples(
  ink: { alpha: Float32Array; mask: Uint8Array },
  w: number,
  h: number,
): number[] {
  const skel = thin(ink.mask, w, h);
  // A first, global width guess (ink area / skeleton length) sizes the windows: the structure tensor
  // must see both edges of the stroke, and the integral must be allowed to run past them.
  let area = 0,
    length = 0;
  for (let i = 0; i < w * h; i++) {
    area += ink.alpha[i] as number;
    length += skel[i] as number;
  }
  const guess = length > 0 ? area / length : 1;
  const maxLen = guess / 2 + 1.5 + w / 64;
  const r = Math.max(3, Math.ceil(guess / 2) + 2);
  const out: number[] = [];
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      if (!skel[y * w + x] || neighbourCount(skel, w, h, x, y) !== 2) continue;
      const [nx, ny] = strokeNormal(ink.alpha, w, h, x, y, r);
      const cx = x + 0.5,
        cy = y + 0.5;
      out.push(
        halfIntegral(ink.alpha, w, h, cx, cy, nx, ny, maxLen) +
          halfIntegral(ink.alpha, w, h, cx, cy, -nx, -ny, maxLen),
      );
    }
  }
  return out;
}

/**
 * The lowest well-populated mode of the cross-sections: the first value v (ascending) with at least
 * `minShare` of the samples in [v, 1.15 v], refined to the mean of the fullest such window near it.
 * Cross-sections only ever come out too long (corners, junctions, a star arm that is all outline, a
 * fill the colour of the ink), so the true width is the lowest mode, not the median or the main mode.
 */
export function lowestMode(values: number[], minShare = 0.15): number {
  // Non-positive cross-sections (noise on a faint stroke) have no relative window: leave them out.
  const s = values.filter((v) => v > 0.05).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const need = Math.max(3, Math.ceil(minShare * s.length));
  const count = (i: number): number => {
    let j = i;
    while (j < s.length && (s[j] as number) <= 1.15 * (s[i] as number)) j++;
    return j - i;
  };
  let start = s.findIndex((_, i) => count(i) >= need);
  if (start < 0) start = 0;
  // Slide on while the window keeps filling up (centre the window on the mode).
  let best = start;
  for (let i = start + 1; i < s.length && (s[i] as number) <= 1.15 * (s[start] as number); i++) {
    if (count(i) > count(best)) best = i;
  }
  const n = count(best);
  let sum = 0;
  for (let i = best; i < best + n; i++) sum += s[i] as number;
  return sum / n;
}

/** Stroke width of the line art in pixels at this image's size; null when no strokes are found. */
export function measureStrokeWidth(img: RGBImage): StrokeResult | null {
  const ink = outlineMap(img);
  if (!ink) return null;
  const samples = strokeSamples(ink, img.width, img.height);
  if (samples.length < 4) return null;
  const m = lowestMode(samples);
  if (!Number.isFinite(m)) return null;
  const near = samples.filter((s) => Math.abs(s - m) <= 0.25 * m).length;
  return { stroke_width_px: m, samples: samples.length, confidence: near / samples.length };
}

/**
 * Horizon measurer: the sky/ground boundary of a landscape as a straight line.
 *
 * Method: smooth the image in CIELAB, take the colour difference between vertically adjacent rows
 * (an edge map located exactly on row boundaries), normalise it per column so that every column casts
 * at most one full vote, then a Hough search over near-horizontal lines picks the line with the most
 * support across the width. A long straight edge broken by objects (trees, houses, mountains standing on
 * it) still wins over any object outline, which spans only a few columns. Finally the line is refined
 * to sub-pixel precision by a robust fit to the per-column edge peaks near it.
 */
import { imageToLab } from "./colour.js";
import { blurInterleaved } from "./filters.js";
import type { LabImage, RGBImage } from "./types.js";

export type HorizonResult = {
  /** Fraction of the image height from the top, at the horizontal centre. */
  horizon: number;
  /** Tilt in degrees; positive when the line descends to the right in image coordinates (y down). */
  horizon_tilt_deg: number;
  /** In [0,1]: share of the columns whose strongest nearby edge agrees with the line, times contrast. */
  confidence: number;
};

export type HorizonOptions = {
  /** Largest tilt searched, degrees. */
  maxTiltDeg?: number;
  /** Smoothing before differentiation, in pixels at 64 px; scaled with the image height. */
  sigmaAt64?: number;
};

/** Edge map: e[r * W + x] = Lab distance between rows r-1 and r at column x (r = 1..H-1, row 0 = 0). */
export function verticalEdges(lab: LabImage, sigma: number): Float32Array {
  const { width: w, height: h } = lab;
  const s = blurInterleaved(lab.data, w, h, 3, sigma);
  const e = new Float32Array(w * h);
  for (let r = 1; r < h; r++) {
    for (let x = 0; x < w; x++) {
      const i = (r * w + x) * 3;
      const j = ((r - 1) * w + x) * 3;
      const dl = (s[i] as number) - (s[j] as number);
      const da = (s[i + 1] as number) - (s[j + 1] as number);
      const db = (s[i + 2] as number) - (s[j + 2] as number);
      e[r * w + x] = Math.sqrt(dl * dl + da * da + db * db);
    }
  }
  return e;
}

/**
 * Per-column normalisation: each column's edges divided by max(column max, floor). The floor (a fraction
 * of the typical column max) keeps columns that hold only noise or a smooth gradient from voting fully.
 */
function normaliseColumns(e: Float32Array, w: number, h: number): Float32Array {
  const colMax = new Float64Array(w);
  for (let r = 1; r < h; r++) {
    for (let x = 0; x < w; x++) colMax[x] = Math.max(colMax[x] as number, e[r * w + x] as number);
  }
  const sorted = Float64Array.from(colMax).sort();
  const floor = Math.max(2, 0.5 * (sorted[Math.floor(w / 2)] as number));
  const n = new Float32Array(w * h);
  for (let x = 0; x < w; x++) {
    const d = Math.max(colMax[x] as number, floor);
    for (let r = 1; r < h; r++) n[r * w + x] = (e[r * w + x] as number) / d;
  }
  return n;
}

type Line = { yc: number; slope: number; score: number };

/** Sum of the normalised edge map along y = yc + slope * (x + 0.5 - W/2), linear in the row. */
function lineScore(n: Float32Array, w: number, h: number, yc: number, slope: number): number {
  let s = 0;
  for (let x = 0; x < w; x++) {
    const y = yc + slope * (x + 0.5 - w / 2);
    if (y < 1 || y > h - 1) continue;
    const r0 = Math.floor(y);
    const f = y - r0;
    const a = n[r0 * w + x] as number;
    const b = r0 + 1 < h ? (n[(r0 + 1) * w + x] as number) : 0;
    s += a + f * (b - a);
  }
  return s;
}

/** Coarse-to-fine Hough search over (centre height, slope). */
function houghSearch(n: Float32Array, w: number, h: number, maxTiltDeg: number): Line {
  const maxSlope = Math.tan((maxTiltDeg * Math.PI) / 180);
  const slopeStep = Math.max(0.5 / w, maxSlope / 20);
  let best: Line = { yc: h / 2, slope: 0, score: -1 };
  for (let slope = -maxSlope; slope <= maxSlope + 1e-12; slope += slopeStep) {
    for (let yc = 1; yc <= h - 1; yc += 0.5) {
      const score = lineScore(n, w, h, yc, slope);
      if (score > best.score) best = { yc, slope, score };
    }
  }
  // Fine pass around the coarse optimum.
  const coarse = best;
  for (let ds = -slopeStep; ds <= slopeStep + 1e-12; ds += slopeStep / 4) {
    for (let dy = -0.5; dy <= 0.5 + 1e-9; dy += 0.125) {
      const score = lineScore(n, w, h, coarse.yc + dy, coarse.slope + ds);
      if (score > best.score) best = { yc: coarse.yc + dy, slope: coarse.slope + ds, score };
    }
  }
  return best;
}

type Peak = { x: number; y: number; weight: number };

/** Per column, the sub-pixel edge peak within `radius` rows of the line (parabola through 3 samples). */
function columnPeaks(
  e: Float32Array,
  n: Float32Array,
  w: number,
  h: number,
  line: Line,
  radius: number,
): Peak[] {
  const peaks: Peak[] = [];
  for (let x = 0; x < w; x++) {
    const yl = line.yc + line.slope * (x + 0.5 - w / 2);
    let bestR = -1;
    let bestV = 0;
    for (let r = Math.max(1, Math.floor(yl - radius)); r <= Math.min(h - 1, Math.ceil(yl + radius)); r++) {
      const v = e[r * w + x] as number;
      if (v > bestV) {
        bestV = v;
        bestR = r;
      }
    }
    // Only columns where this edge is the column's strongest (or close to it) are evidence of the line.
    if (bestR < 0 || (n[bestR * w + x] as number) < 0.5) continue;
    const vm = bestR > 1 ? (e[(bestR - 1) * w + x] as number) : bestV;
    const vp = bestR < h - 1 ? (e[(bestR + 1) * w + x] as number) : bestV;
    const den = vm - 2 * bestV + vp;
    const off = den < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (vm - vp)) / den)) : 0;
    peaks.push({ x: x + 0.5, y: bestR + off, weight: bestV });
  }
  return peaks;
}

/** Weighted least squares of y = a + b (x - cx), re-weighted with Tukey's biweight on the residuals. */
function robustLineFit(
  peaks: Peak[],
  cx: number,
  start: Line,
  scale: number,
): { a: number; b: number; inliers: number } {
  let a = start.yc;
  let b = start.slope;
  let inliers = 0;
  for (let iter = 0; iter < 8; iter++) {
    let sw = 0,
      sx = 0,
      sy = 0,
      sxx = 0,
      sxy = 0;
    inliers = 0;
    for (const p of peaks) {
      const u = (p.y - (a + b * (p.x - cx))) / scale;
      if (Math.abs(u) >= 1) continue;
      const t = 1 - u * u;
      const wgt = p.weight * t * t;
      const dx = p.x - cx;
      sw += wgt;
      sx += wgt * dx;
      sy += wgt * p.y;
      sxx += wgt * dx * dx;
      sxy += wgt * dx * p.y;
      inliers++;
    }
    const det = sw * sxx - sx * sx;
    if (sw <= 0 || Math.abs(det) < 1e-9) break;
    b = (sw * sxy - sx * sy) / det;
    a = (sy - b * sx) / sw;
  }
  return { a, b, inliers };
}

/** Estimate the horizon of a landscape. Returns null when no edge spans even a fifth of the width. */
export function measureHorizon(img: RGBImage, opts: HorizonOptions = {}): HorizonResult | null {
  const { width: w, height: h } = img;
  const scale = h / 64;
  const sigma = (opts.sigmaAt64 ?? 1) * scale;
  const e = verticalEdges(imageToLab(img), sigma);
  const n = normaliseColumns(e, w, h);
  const line = houghSearch(n, w, h, opts.maxTiltDeg ?? 6);
  if (line.score < 0.2 * w) return null;
  const peaks = columnPeaks(e, n, w, h, line, Math.max(1.5, 1.5 * scale));
  const fit = robustLineFit(peaks, w / 2, line, Math.max(1.5, 1.5 * scale));
  // Keep the fit only if it stays close to the Hough line (guards against a degenerate refit).
  const ok = fit.inliers >= 3 && Math.abs(fit.a - line.yc) < 2 * scale;
  const yc = ok ? fit.a : line.yc;
  const slope = ok ? fit.b : line.slope;
  return {
    horizon: yc / h,
    horizon_tilt_deg: (Math.atan(slope) * 180) / Math.PI,
    confidence: Math.min(1, fit.inliers / w),
  };
}

/**
 * Horizon measurer: the sky/ground boundary of a landscape as a straight line.
 *
 * Method: smooth the image in CIELAB (mostly along the rows), take the colour difference between
 * vertically adjacent rows (an edge map located exactly on row boundaries), normalise it per column so
 * that every column casts at most one full vote, and weight each vote by what lies around it: full
 * weight where only sky lies above (no strong gradient higher up in the column) and ground continues
 * below, a small base weight otherwise. A Hough search over near-horizontal lines then picks the line
 * with the most support across the width: the horizon, broken by objects standing on it, wins over
 * object outlines (short), the bottoms of near objects (an object above them) and ground texture. The
 * line is refined to sub-pixel precision by a robust fit to the per-column edge peaks near it.
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
  /**
   * Smoothing before differentiation, in pixels at 64 px (scaled with the image height): strong along
   * the line (noise), weak across it, so that a sky gradient that changes quickly over a few rows is
   * not merged into one edge as strong as the horizon's single-step one.
   */
  sigmaXAt64?: number;
  sigmaYAt64?: number;
  /** Vote of an edge with a much stronger edge above it, relative to one with only sky above. */
  skyBase?: number;
  /**
   * Gradient (CIE76 per pixel at 64 px; scaled as 1/size) above which something is not plain sky; at
   * least 4x the median gradient (noise).
   */
  skyEdgeAt64?: number;
  /** Smoothing (px at 64 px) of the gradient used by the sky test: larger is more robust to blur. */
  skySigmaAt64?: number;
  /** Rows at 64 px just above a candidate that the sky test ignores (antialiasing, blur). */
  marginAt64?: number;
  /** Share of the vote for "ground continues below" (the rest: sky above, base). */
  groundWeight?: number;
  /** Thickness at 64 px below which a band under a candidate is not ground, and its colour step. */
  bandAt64?: number;
  bandEdge?: number;
  /**
   * Horizontal lines up to this thick (px at 64 px) are removed before anything else: a horizon is where
   * one region meets another, not a line drawn across the picture. 0 keeps them.
   */
  lineAt64?: number;
};

/**
 * The image with horizontal lines up to `thickness` rows thick taken out: each channel of each column
 * replaced by its running median over 2 * thickness + 1 rows. A median keeps a step between two regions
 * exactly (a horizon, the top of a tree) and removes a thinner band, so that a dark line drawn across the
 * sky (a LoRA imitating the red line of the horizon prompt) is neither read as the horizon nor hides the
 * real one below it, which the sky test would otherwise discount for having an edge above it.
 */
export function withoutThinLines(lab: LabImage, thickness: number): LabImage {
  const { width: w, height: h, data } = lab;
  const k = Math.floor(thickness);
  if (k < 1) return lab;
  const out = new Float32Array(data.length);
  const window = new Float64Array(2 * k + 1);
  for (let x = 0; x < w; x++) {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < h; y++) {
        const lo = Math.max(0, y - k);
        const n = Math.min(h - 1, y + k) - lo + 1;
        // insertion sort of a handful of values: far cheaper than a typed-array sort per pixel
        for (let j = 0; j < n; j++) {
          const v = data[((lo + j) * w + x) * 3 + c] as number;
          let i = j;
          for (; i > 0 && (window[i - 1] as number) > v; i--) window[i] = window[i - 1] as number;
          window[i] = v;
        }
        out[(y * w + x) * 3 + c] = window[n >> 1] as number;
      }
    }
  }
  return { width: w, height: h, data: out };
}

/** Isotropic gradient magnitude (CIE76 per pixel, central differences) of the lightly smoothed image. */
export function gradientMagnitude(lab: LabImage, sigma: number): Float32Array {
  const { width: w, height: h } = lab;
  const s = blurInterleaved(lab.data, w, h, 3, sigma);
  const g = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const l = (y * w + Math.max(0, x - 1)) * 3,
        r = (y * w + Math.min(w - 1, x + 1)) * 3;
      const u = (Math.max(0, y - 1) * w + x) * 3,
        d = (Math.min(h - 1, y + 1) * w + x) * 3;
      let sum = 0;
      for (let c = 0; c < 3; c++) {
        const gx = ((s[r + c] as number) - (s[l + c] as number)) / 2;
        const gy = ((s[d + c] as number) - (s[u + c] as number)) / 2;
        sum += gx * gx + gy * gy;
      }
      g[y * w + x] = Math.sqrt(sum);
    }
  }
  return g;
}

/** Edge map: e[r * W + x] = Lab distance between rows r-1 and r at column x (r = 1..H-1, row 0 = 0). */
export function verticalEdges(s: Float32Array, w: number, h: number): Float32Array {
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

/**
 * Votes: the normalised edge, discounted where a clearly stronger edge lies above it in the same
 * column. The horizon is where the sky ends, so where it is visible nothing but sky lies above it;
 * the long bottom edge of a near house, the eaves of its roof, or ground texture all have the object
 * (and its outline against the sky) above them. Sky-internal edges (a star, the moon, a fast sunset
 * gradient) cost the horizon only those columns' bonus. "Above" uses the isotropic gradient `g`, so
 * that steep outlines (a pine's flanks), which the horizontal smoothing of `e` hides, count too.
 */
function skyBoundedVotes(
  g: Float32Array,
  n: Float32Array,
  smooth: Float32Array,
  w: number,
  h: number,
  opts: VoteOptions,
): Float32Array {
  const v = new Float32Array(w * h);
  const m = Math.max(1, Math.round(opts.marginRows));
  const a = 1 - opts.base - opts.groundWeight;
  for (let x = 0; x < w; x++) {
    let above = 0; // max gradient magnitude in rows 0 .. r - m
    for (let r = 1; r < h; r++) {
      if (r - m >= 0) above = Math.max(above, g[(r - m) * w + x] as number);
      const clear = above < opts.skyEdge ? 1 : 0;
      const ground = groundBelow(smooth, w, h, x, r, opts) ? 1 : 0;
      // The ground test only adds to a clear edge: below an object's bottom there is ground as well.
      v[r * w + x] = (n[r * w + x] as number) * (opts.base + clear * (a + opts.groundWeight * ground));
    }
  }
  return v;
}

/**
 * Is row r the top of something that continues downwards (ground), rather than a thin band (the glow
 * of a sunset just above the horizon)? Compares row r with the mean of the rows a little further down.
 */
function groundBelow(
  smooth: Float32Array,
  w: number,
  h: number,
  x: number,
  r: number,
  opts: VoteOptions,
): boolean {
  const r0 = r + opts.bandRows;
  const r1 = Math.min(h - 1, r0 + opts.bandRows);
  if (r0 > h - 1) return true;
  const mean = [0, 0, 0];
  for (let y = r0; y <= r1; y++)
    for (let c = 0; c < 3; c++) mean[c]! += smooth[(y * w + x) * 3 + c] as number;
  let d = 0;
  for (let c = 0; c < 3; c++) d += ((smooth[(r * w + x) * 3 + c] as number) - mean[c]! / (r1 - r0 + 1)) ** 2;
  return Math.sqrt(d) < opts.bandEdge;
}

type VoteOptions = {
  base: number;
  skyEdge: number;
  marginRows: number;
  groundWeight: number;
  bandRows: number;
  bandEdge: number;
};

type Line = { yc: number; slope: number; score: number };

function medianOf(v: Float32Array): number {
  return Float32Array.from(v).sort()[Math.floor(v.length / 2)] as number;
}

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
  // Lines hugging the top or bottom border are not searched: an edge there (a generated image's dark top
  // rows) would otherwise beat the true horizon, having nothing but "sky" above it.
  const [yMin, yMax] = [Math.max(1, HORIZON_BORDER * h), Math.min(h - 1, (1 - HORIZON_BORDER) * h)];
  for (let slope = -maxSlope; slope <= maxSlope + 1e-12; slope += slopeStep) {
    for (let yc = yMin; yc <= yMax; yc += 0.5) {
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

/**
 * A line this close to the top or bottom edge is the border of the image (the smoothing's edge effects, or a
 * picture with no horizon), not a horizon: Scenes horizons lie in [0.1, 0.9] (docs/world-contract.md).
 */
export const HORIZON_BORDER = 0.05;

/**
 * Estimate the horizon of a landscape, searching lines whose centre lies at least HORIZON_BORDER of the height
 * from the top and bottom borders. Returns null when no line gathers a tenth of the full vote, or when the
 * refined line still ends up within HORIZON_BORDER of a border.
 */
export function measureHorizon(img: RGBImage, opts: HorizonOptions = {}): HorizonResult | null {
  const { width: w, height: h } = img;
  const scale = h / 64;
  const lab = withoutThinLines(imageToLab(img), (opts.lineAt64 ?? 3) * scale);
  const smooth = blurInterleaved(
    lab.data,
    w,
    h,
    3,
    (opts.sigmaXAt64 ?? 1.5) * scale,
    (opts.sigmaYAt64 ?? 0.5) * scale,
  );
  const e = verticalEdges(smooth, w, h);
  const g = gradientMagnitude(lab, (opts.skySigmaAt64 ?? 0.7) * scale);
  const n = normaliseColumns(e, w, h);
  const votes = skyBoundedVotes(g, n, smooth, w, h, {
    base: opts.skyBase ?? 0.2,
    // Gradients per pixel of a (smoothed) step fall as 1/size: the threshold is stated at 64 px.
    skyEdge: Math.max(4 * medianOf(g), (opts.skyEdgeAt64 ?? 12) / scale),
    marginRows: (opts.marginAt64 ?? 4) * scale,
    groundWeight: opts.groundWeight ?? 0.3,
    bandRows: Math.max(2, Math.round((opts.bandAt64 ?? 3) * scale)),
    bandEdge: opts.bandEdge ?? 15,
  });
  const line = houghSearch(votes, w, h, opts.maxTiltDeg ?? 6);
  if (line.score < 0.1 * w) return null;
  const peaks = columnPeaks(e, n, w, h, line, Math.max(1.5, 1.5 * scale));
  const fit = robustLineFit(peaks, w / 2, line, Math.max(1.5, 1.5 * scale));
  // Keep the fit only if it stays close to the Hough line (guards against a degenerate refit).
  const ok = fit.inliers >= 3 && Math.abs(fit.a - line.yc) < 2 * scale;
  const yc = ok ? fit.a : line.yc;
  const slope = ok ? fit.b : line.slope;
  if (yc / h < HORIZON_BORDER || yc / h > 1 - HORIZON_BORDER) return null;
  return {
    horizon: yc / h,
    horizon_tilt_deg: (Math.atan(slope) * 180) / Math.PI,
    confidence: Math.min(1, fit.inliers / w),
  };
}

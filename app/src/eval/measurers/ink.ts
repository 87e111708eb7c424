/**
 * Ink on paper: the paper colour (the most common colour) and, per pixel, the ink coverage alpha in
 * [0, 1] that an antialiased renderer would have blended: pixel = paper + alpha (ink - paper).
 */
import type { RGBImage } from "./types.js";

export type InkMap = {
  paper: [number, number, number];
  /** Coverage per pixel, ~0 on paper, ~1 in the core of a stroke; not clipped (noise stays zero-mean). */
  alpha: Float32Array;
  /** Pixels where ink coverage is at least one half. */
  mask: Uint8Array;
};

/**
 * Most common colour: the fullest cell of a 16-level-per-channel histogram, refined by a few mean-shift
 * steps (mean of the pixels within 24 units). The refinement matters under noise: near white, clipping
 * at 255 piles noisy pixels into the top cell, and the cell alone would be biased.
 */
export function paperColour(img: RGBImage): [number, number, number] {
  return paperStats(img).colour;
}

/** Paper colour and the per-channel noise standard deviation on the paper (see paperColour). */
export function paperStats(img: RGBImage): { colour: [number, number, number]; noise: number } {
  const counts = new Uint32Array(16 * 16 * 16);
  const d = img.data;
  for (let i = 0; i < d.length; i += 3) {
    counts[((d[i] as number) >> 4) * 256 + ((d[i + 1] as number) >> 4) * 16 + ((d[i + 2] as number) >> 4)]!++;
  }
  let best = 0;
  for (let b = 1; b < counts.length; b++) if ((counts[b] as number) > (counts[best] as number)) best = b;
  let c = [(best >> 8) * 16 + 8, ((best >> 4) & 15) * 16 + 8, (best & 15) * 16 + 8];
  let noise = 0;
  for (let iter = 0; iter < 5; iter++) {
    const sum = [0, 0, 0];
    let sq = 0;
    let n = 0;
    for (let i = 0; i < d.length; i += 3) {
      const r = d[i] as number,
        g = d[i + 1] as number,
        b = d[i + 2] as number;
      if (Math.abs(r - c[0]!) <= 24 && Math.abs(g - c[1]!) <= 24 && Math.abs(b - c[2]!) <= 24) {
        sum[0]! += r;
        sum[1]! += g;
        sum[2]! += b;
        n++;
        sq += (r - c[0]!) ** 2 + (g - c[1]!) ** 2 + (b - c[2]!) ** 2;
      }
    }
    if (n === 0) break;
    c = sum.map((v) => v / n);
    noise = Math.sqrt(sq / (3 * n));
  }
  return { colour: [c[0]!, c[1]!, c[2]!], noise };
}

function distanceFrom(img: RGBImage, c: readonly number[]): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const dr = (img.data[i * 3] as number) - (c[0] as number);
    const dg = (img.data[i * 3 + 1] as number) - (c[1] as number);
    const db = (img.data[i * 3 + 2] as number) - (c[2] as number);
    out[i] = Math.sqrt(dr * dr + dg * dg + db * db);
  }
  return out;
}

/** Binary dilation by `steps` rings of 8-neighbours (to cover antialiased fringes). */
export function dilate(mask: Uint8Array, width: number, height: number, steps: number): Uint8Array {
  let cur = mask;
  for (let s = 0; s < steps; s++) {
    const next = Uint8Array.from(cur);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (cur[y * width + x]) continue;
        for (let k = 0; k < 9; k++) {
          const xx = x + (k % 3) - 1;
          const yy = y + Math.floor(k / 3) - 1;
          if (xx >= 0 && yy >= 0 && xx < width && yy < height && cur[yy * width + xx]) {
            next[y * width + x] = 1;
            break;
          }
        }
      }
    }
    cur = next;
  }
  return cur;
}

/**
 * Ink colours: pixels clearly off the paper that are (near) the local maximum of that difference are
 * stroke cores; they are grouped greedily by direction from the paper colour, and each group's ink
 * lies in the group's mean direction at a distance near the largest seen (see below).
 */
export function inkColours(
  img: RGBImage,
  paper: readonly number[],
  dist: Float32Array,
  threshold: number,
  noise: number,
): number[][] {
  const { width: w, height: h } = img;
  // Grouped by direction from the paper, not by colour: a thin stroke's cores are partly covered, so
  // they lie along the same paper -> ink segment at different distances, and must share one ink.
  const groups: Array<{ dir: number[]; members: number[] }> = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const d = dist[i] as number;
      if (d <= threshold || d < 0.85 * localMax(dist, w, h, x, y, 2)) continue;
      const u = [0, 1, 2].map((k) => ((img.data[i * 3 + k] as number) - (paper[k] as number)) / d);
      const g = groups.find((gr) => u[0]! * gr.dir[0]! + u[1]! * gr.dir[1]! + u[2]! * gr.dir[2]! > 0.98);
      if (g) g.members.push(i);
      else groups.push({ dir: u, members: [i] });
    }
  }
  return groups.map((g) => {
    const ds = g.members.map((i) => dist[i] as number).sort((a, b) => a - b);
    const q = (p: number): number => ds[Math.floor(p * (ds.length - 1))] as number;
    // Direction: mean over the strongest tenth of the cores. Distance: near the maximum (a thin
    // stroke's best-covered pixels are its only estimate of the ink), less the lift that noise gives
    // to an upper quantile (~2 sigma).
    const dir = [0, 0, 0];
    for (const i of g.members) {
      if ((dist[i] as number) < q(0.9)) continue;
      for (let k = 0; k < 3; k++)
        dir[k]! += ((img.data[i * 3 + k] as number) - (paper[k] as number)) / (dist[i] as number);
    }
    const norm = Math.hypot(dir[0]!, dir[1]!, dir[2]!);
    const reach = Math.max(q(0.5), q(0.98) - 2 * noise);
    return [0, 1, 2].map((k) => (paper[k] as number) + ((dir[k] as number) / norm) * reach);
  });
}

function localMax(v: Float32Array, w: number, h: number, x: number, y: number, r: number): number {
  let m = 0;
  for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++) {
    for (let xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++)
      m = Math.max(m, v[yy * w + xx] as number);
  }
  return m;
}

/**
 * Coverage of one pixel: among the segments paper -> ink, the one the pixel lies closest to, and the
 * position along it. A projection, not a distance ratio, so zero-mean noise stays zero-mean.
 */
function coverage(px: number[], paper: readonly number[], inks: number[][]): number {
  let best = 0;
  let bestResidual = Infinity;
  for (const ink of inks) {
    const v = [0, 1, 2].map((k) => (ink[k] as number) - (paper[k] as number));
    const p = [0, 1, 2].map((k) => (px[k] as number) - (paper[k] as number));
    const vv = v[0]! * v[0]! + v[1]! * v[1]! + v[2]! * v[2]!;
    if (vv === 0) continue;
    // Unclipped, so that noise averages out in the stroke integrals; clipped only for the residual.
    const tRaw = (p[0]! * v[0]! + p[1]! * v[1]! + p[2]! * v[2]!) / vv;
    const t = Math.min(1, Math.max(0, tRaw));
    const residual = Math.hypot(p[0]! - t * v[0]!, p[1]! - t * v[1]!, p[2]! - t * v[2]!);
    if (residual < bestResidual) {
      bestResidual = residual;
      best = tRaw;
    }
  }
  return best;
}

/**
 * Coverage map. Pixels within a few pixels of a clearly inked pixel get alpha by `coverage`; the rest
 * of the paper is 0 (so noise on bare paper adds nothing to the stroke integrals).
 */
export function inkMap(img: RGBImage, opts: { fringePx?: number } = {}): InkMap {
  const { width: w, height: h } = img;
  const n = w * h;
  const { colour: paper, noise } = paperStats(img);
  const dist = distanceFrom(img, paper);
  const sorted = Float32Array.from(dist).sort();
  const strong = sorted[Math.floor(0.995 * (n - 1))] as number;
  const threshold = Math.max(30, 0.3 * strong);
  const seedMask = Uint8Array.from(dist, (v) => (v > threshold ? 1 : 0));
  const near = dilate(seedMask, w, h, opts.fringePx ?? Math.max(2, Math.round(w / 32)));
  const inks = inkColours(img, paper, dist, threshold, noise);
  const alpha = new Float32Array(n);
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (!near[i]) continue;
    const a = coverage(
      [img.data[i * 3] as number, img.data[i * 3 + 1] as number, img.data[i * 3 + 2] as number],
      paper,
      inks,
    );
    alpha[i] = a;
    mask[i] = a >= 0.5 ? 1 : 0;
  }
  return { paper, alpha, mask };
}

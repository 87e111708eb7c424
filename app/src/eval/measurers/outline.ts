/**
 * Outline coverage for line art: shapes on paper, each outlined in one ink colour and possibly filled
 * with another. Every pixel is explained as a blend of two of the image's colours (its palette plus
 * the paper), the pair on whose sRGB segment it lies closest; its outline coverage alpha is its
 * position along that segment when the pair contains the outline colour, else 0. So the antialiased
 * rims of an outline against the paper and against a fill both count, while fills do not.
 *
 * The outline colour is the one the paper blends into: outlines separate every shape from the paper,
 * so the colour that appears in (paper, colour) blends most often is the outline's.
 */
import { labToRgb } from "./colour.js";
import { paperStats } from "./paper.js";
import { imagePalette } from "./palette.js";
import type { RGBImage } from "./types.js";

export type OutlineMap = {
  paper: [number, number, number];
  outline: [number, number, number];
  /** Outline coverage per pixel, ~0 off the outline, ~1 in its core; not clipped (noise stays zero-mean). */
  alpha: Float32Array;
  /** Pixels with alpha >= 0.5. */
  mask: Uint8Array;
};

type Blend = { a: number; b: number; t: number; residual: number };

/** Index of the colour within `pure` of the pixel, or -1 (a blend or something else). */
function pureLabel(px: readonly number[], colours: readonly number[][], pure: number): number {
  let nearest = -1;
  let nearestD = pure;
  colours.forEach((c, k) => {
    const d = Math.hypot((px[0] as number) - c[0]!, (px[1] as number) - c[1]!, (px[2] as number) - c[2]!);
    if (d < nearestD) {
      nearestD = d;
      nearest = k;
    }
  });
  return nearest;
}

/**
 * The pair (a, b) of colours whose segment the pixel lies closest to, and its position t from a to b.
 * A pixel that is one of the colours (`label` >= 0) is that colour: a flat grey fill is also, colour
 * for colour, a blend of white paper and black ink, and must not count as one. Pairs whose two colours
 * both occur nearby (`near`) are preferred: a rim pixel between paper and black ink lies on the
 * paper-grey segment too, but only black is next to it.
 */
function bestBlend(
  px: readonly number[],
  colours: readonly number[][],
  label: number,
  near1: Set<number>,
  nearR: Set<number>,
): Blend {
  if (label === 0) return { a: 0, b: 1, t: 0, residual: 0 };
  if (label > 0) return { a: 0, b: label, t: 1, residual: 0 };
  let best: Blend = { a: 0, b: 0, t: 0, residual: Infinity };
  for (let a = 0; a < colours.length; a++) {
    for (let b = a + 1; b < colours.length; b++) {
      const ca = colours[a] as number[];
      const cb = colours[b] as number[];
      const v = [0, 1, 2].map((k) => (cb[k] as number) - (ca[k] as number));
      const p = [0, 1, 2].map((k) => (px[k] as number) - (ca[k] as number));
      const vv = v[0]! * v[0]! + v[1]! * v[1]! + v[2]! * v[2]!;
      if (vv === 0) continue;
      const t = (p[0]! * v[0]! + p[1]! * v[1]! + p[2]! * v[2]!) / vv;
      const tc = Math.min(1, Math.max(0, t));
      // A pair not seen nearby is charged a penalty, so it wins only when clearly closer; among pairs
      // that fit equally (collinear colours), the one reaching further from the paper wins.
      const seen = (s: Set<number>): boolean => s.has(a) && s.has(b);
      const penalty = seen(near1) ? 0 : seen(nearR) ? NOT_NEAR_PENALTY / 2 : NOT_NEAR_PENALTY;
      const reach = Math.hypot(cb[0]! - colours[0]![0]!, cb[1]! - colours[0]![1]!, cb[2]! - colours[0]![2]!);
      const residual =
        Math.hypot(p[0]! - tc * v[0]!, p[1]! - tc * v[1]!, p[2]! - tc * v[2]!) + penalty - reach / 100;
      if (residual < best.residual) best = { a, b, t, residual };
    }
  }
  return best;
}

const NOT_NEAR_PENALTY = 12; // sRGB units

/** Labels present in the (2r+1)^2 neighbourhood of (x, y). */
function labelsNear(labels: Int32Array, w: number, h: number, x: number, y: number, r: number): Set<number> {
  const out = new Set<number>();
  for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++) {
    for (let xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++) {
      const l = labels[yy * w + xx] as number;
      if (l >= 0) out.add(l);
    }
  }
  return out;
}

/** Colours of the image (palette clusters) with the paper first; near-paper clusters dropped. */
function imageColours(img: RGBImage, paper: readonly number[]): number[][] {
  const pal = imagePalette(img).map((c) => labToRgb(c.lab) as number[]);
  const others = pal.filter((c) => Math.hypot(c[0]! - paper[0]!, c[1]! - paper[1]!, c[2]! - paper[2]!) > 20);
  return [[...paper], ...others];
}

/**
 * How far past the outline colour found by clustering the ink really reaches, as a multiple of the
 * paper -> outline distance (>= 1). Clustering finds the most common ink colour; when blur has lowered
 * the core of thin strokes, that colour is paler than the ink, which junctions and corners still show.
 * The 99th percentile of the blend position, less the lift noise gives it (2.3 sigma), is the estimate.
 */
function inkReach(blends: Blend[], o: number, colours: readonly number[][], noise: number): number {
  const ts = blends.filter((b) => b.a === 0 && b.b === o).map((b) => b.t);
  if (ts.length < 20) return 1;
  ts.sort((a, b) => a - b);
  const p = colours[0] as number[];
  const c = colours[o] as number[];
  const span = Math.hypot(c[0]! - p[0]!, c[1]! - p[1]!, c[2]! - p[2]!);
  const q = (ts[Math.floor(0.99 * (ts.length - 1))] as number) - (2.3 * noise) / span;
  return Math.max(1, q);
}

/** Coverage of the outline colour; null when the image holds nothing but paper. */
export function outlineMap(img: RGBImage): OutlineMap | null {
  const n = img.width * img.height;
  const { colour: paper, noise } = paperStats(img);
  const pure = 10 + 2 * noise;
  const colours = imageColours(img, paper);
  if (colours.length < 2) return null;
  const { width: w, height: h } = img;
  const pxAt = (i: number): number[] => [
    img.data[i * 3] as number,
    img.data[i * 3 + 1] as number,
    img.data[i * 3 + 2] as number,
  ];
  const labels = Int32Array.from({ length: n }, (_, i) => pureLabel(pxAt(i), colours, pure));
  const radius = Math.max(2, Math.round((3 * w) / 64));
  const blends: Blend[] = new Array<Blend>(n);
  const paperBlends = new Array<number>(colours.length).fill(0);
  for (let i = 0; i < n; i++) {
    const label = labels[i] as number;
    const [x, y] = [i % w, Math.floor(i / w)];
    const near1 = label >= 0 ? new Set<number>() : labelsNear(labels, w, h, x, y, 1);
    const nearR = label >= 0 ? new Set<number>() : labelsNear(labels, w, h, x, y, radius);
    const bl = bestBlend(pxAt(i), colours, label, near1, nearR);
    blends[i] = bl;
    // Paper is colour 0, so a (paper, k) blend has a = 0.
    if (bl.a === 0 && bl.t > 0.15 && bl.t < 0.85) paperBlends[bl.b]!++;
  }
  let o = 1;
  for (let k = 2; k < colours.length; k++) if ((paperBlends[k] as number) > (paperBlends[o] as number)) o = k;
  const reach = inkReach(blends, o, colours, noise);
  const alpha = new Float32Array(n);
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const bl = blends[i] as Blend;
    const a = (bl.b === o ? bl.t : bl.a === o ? 1 - bl.t : 0) / reach;
    alpha[i] = a;
    mask[i] = a >= 0.5 ? 1 : 0;
  }
  const oc = colours[o] as number[];
  return { paper, outline: [oc[0]!, oc[1]!, oc[2]!], alpha, mask };
}

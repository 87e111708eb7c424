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
import { paperStats } from "./ink.js";
import { measurePalette } from "./palette.js";
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

/**
 * The pair (a, b) of colours whose segment the pixel lies closest to, and its position t from a to b.
 * A pixel within `pure` of one of the colours is that colour (t = 1 towards it): a flat grey fill is
 * also, colour for colour, a blend of white paper and black ink, and must not count as one.
 */
function bestBlend(px: readonly number[], colours: readonly number[][], pure: number): Blend {
  let nearest = 0;
  let nearestD = Infinity;
  colours.forEach((c, k) => {
    const d = Math.hypot((px[0] as number) - c[0]!, (px[1] as number) - c[1]!, (px[2] as number) - c[2]!);
    if (d < nearestD) {
      nearestD = d;
      nearest = k;
    }
  });
  if (nearestD < pure)
    return nearest === 0
      ? { a: 0, b: 1, t: 0, residual: nearestD }
      : { a: 0, b: nearest, t: 1, residual: nearestD };
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
      const residual = Math.hypot(p[0]! - tc * v[0]!, p[1]! - tc * v[1]!, p[2]! - tc * v[2]!);
      if (residual < best.residual) best = { a, b, t, residual };
    }
  }
  return best;
}

/** Colours of the image (palette clusters) with the paper first; near-paper clusters dropped. */
function imageColours(img: RGBImage, paper: readonly number[]): number[][] {
  const pal = measurePalette(img).map((c) => labToRgb(c.lab) as number[]);
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
  const blends: Blend[] = new Array<Blend>(n);
  const paperBlends = new Array<number>(colours.length).fill(0);
  for (let i = 0; i < n; i++) {
    const px = [img.data[i * 3] as number, img.data[i * 3 + 1] as number, img.data[i * 3 + 2] as number];
    const bl = bestBlend(px, colours, pure);
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

/**
 * Palette measurer: the colours an image is painted with.
 *
 * k-means in CIELAB (k-means++ seeded from a fixed seed, so an image always gives the same palette),
 * then three clean-ups that matter on rendered and generated images alike: each centre moves to the
 * mode of the colours near it (a mean of a flat colour and its antialiased rim is a colour nobody
 * painted); centres closer than a CIEDE2000 threshold merge; clusters that are colourwise a blend of two
 * others (an outline's rim, the middle of a gradient) are dropped unless they fill areas of their own.
 * Shares are counted over all pixels. The distance between palettes is in palette-distance.ts.
 */
import { ciede2000, deltaE76Sq, imageToLab, labToHex, labToRgb } from "./colour.js";
import { mulberry32 } from "./random.js";
import type { Lab, RGBImage } from "./types.js";

export type PaletteColour = {
  hex: string;
  lab: Lab;
  /** share of the image's pixels nearest to it */ weight: number;
};

export type PaletteOptions = {
  /** Number of clusters. Without it, `maxK` clusters are found and then merged/pruned (see below). */
  k?: number;
  maxK?: number;
  /** Clusters closer than this (CIEDE2000) are merged when k is not given. */
  mergeDeltaE?: number;
  /** Cluster only flat pixels (see samplePixels). */
  flatOnly?: boolean;
  /** Background colours (e.g. the paper of line art) left out of the palette, with their blends. */
  exclude?: Lab[];
  /** Radius (CIE76) of the mean shift that moves each centre to its mode; 0 keeps the k-means means. */
  modeBandwidth?: number;
  /** Clusters with a smaller share of pixels are dropped when k is not given (antialiasing blends). */
  minWeight?: number;
  seed?: number;
  /** At most this many pixels are clustered (an even stride over the image). */
  maxSamples?: number;
};

/**
 * Pixels to cluster, as Lab triples in a flat array (at most maxSamples, on an even stride): the
 * "flat" ones, whose 3x3 neighbourhood hardly changes colour, as antialiased blends and outlines are
 * colours no one painted and would otherwise win clusters of their own. The flatness threshold follows
 * the image's own noise level (the median local change). Excluded colours (a background) and their
 * near neighbours are left out. When few candidates are flat (thin strokes), all candidates are used.
 */
function samplePixels(
  img: RGBImage,
  maxSamples: number,
  exclude: readonly Lab[],
  flatOnly: boolean,
): { px: Float32Array; all: Float32Array; noise: number; lab: Float32Array } {
  const { width: w, height: h } = img;
  const lab = imageToLab(img).data;
  const change = localChange(lab, w, h);
  const noise = Float32Array.from(change).sort()[Math.floor(change.length / 2)] as number;
  const threshold = Math.max(6, 3 * noise);
  const r2 = EXCLUDE_RADIUS * EXCLUDE_RADIUS;
  const candidates: number[] = [];
  for (let i = 0; i < w * h; i++) {
    let excluded = false;
    for (const c of exclude) excluded ||= sqDist(lab, i * 3, c) < r2;
    if (!excluded) candidates.push(i);
  }
  const flat = candidates.filter((i) => (change[i] as number) <= threshold);
  const chosen = flatOnly && flat.length >= 0.25 * candidates.length ? flat : candidates;
  const stride = Math.max(1, Math.ceil(chosen.length / maxSamples));
  const out = new Float32Array(Math.ceil(chosen.length / stride) * 3);
  let j = 0;
  for (let k = 0; k < chosen.length; k += stride) {
    const i = chosen[k] as number;
    out[j++] = lab[i * 3] as number;
    out[j++] = lab[i * 3 + 1] as number;
    out[j++] = lab[i * 3 + 2] as number;
  }
  const all = new Float32Array(candidates.length * 3);
  candidates.forEach((i, k) => all.set(lab.subarray(i * 3, i * 3 + 3), k * 3));
  return { px: out.subarray(0, j), all, noise, lab };
}

/** Largest CIE76 difference between a pixel and its 8 neighbours. */
function localChange(lab: Float32Array, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      let m = 0;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx,
            yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
          const j = (yy * w + xx) * 3;
          m = Math.max(
            m,
            deltaE76Sq(
              lab[i] as number,
              lab[i + 1] as number,
              lab[i + 2] as number,
              lab[j] as number,
              lab[j + 1] as number,
              lab[j + 2] as number,
            ),
          );
        }
      }
      out[y * w + x] = Math.sqrt(m);
    }
  }
  return out;
}

const EXCLUDE_RADIUS = 10; // CIE76 around an excluded colour

function sqDist(px: Float32Array, i: number, c: Lab): number {
  return deltaE76Sq(px[i] as number, px[i + 1] as number, px[i + 2] as number, c[0], c[1], c[2]);
}

/** k-means++ seeding (Arthur & Vassilvitskii 2007): each new centre drawn with probability ~ D(x)^2. */
function seedCentres(px: Float32Array, k: number, rand: () => number): Lab[] {
  const n = px.length / 3;
  const first = Math.floor(rand() * n) * 3;
  const centres: Lab[] = [[px[first] as number, px[first + 1] as number, px[first + 2] as number]];
  const d2 = new Float64Array(n).fill(Infinity);
  while (centres.length < k) {
    const c = centres[centres.length - 1] as Lab;
    let total = 0;
    for (let i = 0; i < n; i++) {
      d2[i] = Math.min(d2[i] as number, sqDist(px, i * 3, c));
      total += d2[i] as number;
    }
    if (total === 0) break; // fewer distinct colours than k
    let target = rand() * total;
    let pick = n - 1;
    for (let i = 0; i < n; i++) {
      target -= d2[i] as number;
      if (target <= 0) {
        pick = i;
        break;
      }
    }
    centres.push([px[pick * 3] as number, px[pick * 3 + 1] as number, px[pick * 3 + 2] as number]);
  }
  return centres;
}

/**
 * Lloyd iterations; returns centres and their pixel counts. The centres live in one flat array during the
 * loop (this is the measurers' hottest loop: a few hundred thousand distances per image); the arithmetic
 * is the plain one, in the same order, so the result does not depend on the layout.
 */
function lloyd(px: Float32Array, centres: Lab[], maxIter: number): { centres: Lab[]; counts: number[] } {
  const n = px.length / 3;
  const k = centres.length;
  const flat = Float64Array.from(centres.flat());
  const assign = new Int32Array(n).fill(-1);
  const sums = new Float64Array(k * 3);
  const counts = new Int32Array(k);
  for (let iter = 0; iter < maxIter; iter++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const l = px[i * 3]!,
        a = px[i * 3 + 1]!,
        b = px[i * 3 + 2]!;
      let best = 0;
      let bestD = Infinity;
      for (let c = 0; c < k; c++) {
        const dl = l - flat[c * 3]!,
          da = a - flat[c * 3 + 1]!,
          db = b - flat[c * 3 + 2]!;
        const d = dl * dl + da * da + db * db;
        if (d < bestD) {
          bestD = d;
          best = c;
        }
      }
      if (assign[i] !== best) {
        assign[i] = best;
        changed++;
      }
    }
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const c = assign[i]!;
      sums[c * 3]! += px[i * 3]!;
      sums[c * 3 + 1]! += px[i * 3 + 1]!;
      sums[c * 3 + 2]! += px[i * 3 + 2]!;
      counts[c]!++;
    }
    for (let c = 0; c < k; c++) {
      const m = counts[c]!;
      if (m > 0) for (let t = 0; t < 3; t++) flat[c * 3 + t] = sums[c * 3 + t]! / m;
    }
    if (changed === 0) break;
  }
  const out = Array.from({ length: k }, (_, c) => [flat[c * 3]!, flat[c * 3 + 1]!, flat[c * 3 + 2]!] as Lab);
  return { centres: out, counts: Array.from(counts) };
}

/** Repeatedly merge the closest pair of clusters (weighted mean) while closer than `threshold`. */
function mergeClose(
  cols: Array<{ lab: Lab; count: number }>,
  threshold: number,
): Array<{ lab: Lab; count: number }> {
  const out = cols.map((c) => ({ lab: [...c.lab] as Lab, count: c.count }));
  for (;;) {
    let bi = -1,
      bj = -1,
      bd = threshold;
    for (let i = 0; i < out.length; i++) {
      for (let j = i + 1; j < out.length; j++) {
        const d = ciede2000((out[i] as { lab: Lab }).lab, (out[j] as { lab: Lab }).lab);
        if (d < bd) {
          bd = d;
          bi = i;
          bj = j;
        }
      }
    }
    if (bi < 0) return out;
    const a = out[bi] as { lab: Lab; count: number };
    const b = out[bj] as { lab: Lab; count: number };
    const m = a.count + b.count;
    a.lab = [0, 1, 2].map((t) => (a.lab[t]! * a.count + b.lab[t]! * b.count) / m) as Lab;
    a.count = m;
    out.splice(bj, 1);
  }
}

/** Dominant palette of an image, heaviest colour first. */
export function measurePalette(img: RGBImage, opts: PaletteOptions = {}): PaletteColour[] {
  const { px, all, noise, lab } = samplePixels(
    img,
    opts.maxSamples ?? 8192,
    opts.exclude ?? [],
    opts.flatOnly ?? false,
  );
  if (px.length === 0) return [];
  const n = px.length / 3;
  const k = opts.k ?? opts.maxK ?? 8;
  const { centres, counts } = lloyd(px, seedCentres(px, k, mulberry32(opts.seed ?? 0x5eed)), 40);
  let cols = centres.map((lab, i) => ({ lab, count: counts[i] as number })).filter((c) => c.count > 0);
  // With k given the caller asked for k-means proper: k centres, means of their clusters.
  const bandwidth = opts.k === undefined ? (opts.modeBandwidth ?? Math.max(3, 0.7 * noise)) : 0;
  if (bandwidth > 0) cols = cols.map((c) => modeNear(px, c.lab, bandwidth)).filter((c) => c.count > 0);
  if (opts.k === undefined) {
    // k-means splits one noisy colour into several nearby centres; merge them at a distance that
    // grows with the noise (the median local change is a few times the per-pixel noise).
    cols = mergeClose(cols, opts.mergeDeltaE ?? Math.max(8, 0.5 * noise));
    const minCount = (opts.minWeight ?? 0.003) * n;
    const painted = (c: Lab): boolean =>
      interiorCount(lab, img.width, img.height, c, bandwidth + 2) >=
      Math.max(4, 0.002 * img.width * img.height);
    const kept = dropBlends(
      cols.filter((c) => c.count >= minCount),
      opts.exclude ?? [],
      painted,
    );
    if (kept.length > 0) cols = kept;
  }
  // Shares are counted over every pixel (nearest colour), not just the flat ones clustered.
  const shares = nearestCounts(
    all,
    cols.map((c) => c.lab),
  );
  const total = all.length / 3;
  return cols
    .map((c, i) => ({ hex: labToHex(c.lab), lab: c.lab, weight: (shares[i] as number) / total }))
    .sort((a, b) => b.weight - a.weight);
}

const defaultPalettes = new WeakMap<RGBImage, PaletteColour[]>();

/**
 * `measurePalette(img)` with the default options, computed once per image: the palette, the object and the
 * outline measurers all ask for it, and it is the costliest part of measuring an image. Images are not
 * changed in place anywhere (degradations return new ones), so the image object is the key.
 */
export function imagePalette(img: RGBImage): PaletteColour[] {
  let palette = defaultPalettes.get(img);
  if (palette === undefined) {
    palette = measurePalette(img);
    defaultPalettes.set(img, palette);
  }
  return [...palette];
}

/**
 * Drop clusters that are mixtures of two others (or of one and an excluded background colour): the
 * antialiased rim of a thin stroke, the middle of a gradient. A colour that fills areas of its own
 * (`painted`) stays, even if it is colourwise a blend (grey between white paper and black ink). Tested in sRGB values, where renderers
 * blend, lightest clusters first; a blend must lie within BLEND_RGB of the segment, away from its ends.
 */
function dropBlends(
  cols: Array<{ lab: Lab; count: number }>,
  background: readonly Lab[],
  painted: (c: Lab) => boolean,
): Array<{ lab: Lab; count: number }> {
  const rgb = (lab: Lab): number[] => labToRgb(lab);
  let kept = [...cols].sort((a, b) => b.count - a.count);
  for (let i = kept.length - 1; i >= 0; i--) {
    if (painted((kept[i] as { lab: Lab }).lab)) continue;
    const c = rgb((kept[i] as { lab: Lab }).lab);
    const others = [...kept.filter((_, j) => j !== i).map((o) => rgb(o.lab)), ...background.map(rgb)];
    const isBlend = others.some((a, ai) =>
      others.some((b, bi) => bi > ai && blendResidual(c, a, b) < BLEND_RGB),
    );
    if (isBlend) kept = kept.filter((_, j) => j !== i);
  }
  return kept;
}

const BLEND_RGB = 12;

/** Distance of c from the segment a-b, or Infinity when c projects within 8% of either end. */
function blendResidual(c: number[], a: number[], b: number[]): number {
  const v = [0, 1, 2].map((k) => (b[k] as number) - (a[k] as number));
  const p = [0, 1, 2].map((k) => (c[k] as number) - (a[k] as number));
  const vv = v[0]! * v[0]! + v[1]! * v[1]! + v[2]! * v[2]!;
  if (vv === 0) return Infinity;
  const t = (p[0]! * v[0]! + p[1]! * v[1]! + p[2]! * v[2]!) / vv;
  if (t < 0.08 || t > 0.92) return Infinity;
  return Math.hypot(p[0]! - t * v[0]!, p[1]! - t * v[1]!, p[2]! - t * v[2]!);
}

/** Pixels whose whole 5x5 neighbourhood lies within `radius` (CIE76) of colour c: area, not a rim. */
function interiorCount(lab: Float32Array, w: number, h: number, c: Lab, radius: number): number {
  const r2 = radius * radius;
  const near = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) near[i] = sqDist(lab, i * 3, c) <= r2 ? 1 : 0;
  let count = 0;
  for (let y = 2; y < h - 2; y++) {
    for (let x = 2; x < w - 2; x++) {
      let all = true;
      for (let dy = -2; dy <= 2 && all; dy++)
        for (let dx = -2; dx <= 2 && all; dx++) all = near[(y + dy) * w + x + dx] === 1;
      if (all) count++;
    }
  }
  return count;
}

/**
 * Mean shift with a flat kernel from a k-means centre: the centre moves to the densest colour near
 * it. A k-means centre is the mean of its cluster; where a cluster holds a flat colour and a gradient
 * or texture beside it, the mean is a colour nobody painted, while the mode is the painted one.
 * `count` is the number of pixels within `bandwidth` of the mode.
 */
function modeNear(px: Float32Array, start: Lab, bandwidth: number): { lab: Lab; count: number } {
  let c: Lab = [...start];
  const r2 = bandwidth * bandwidth;
  let count = 0;
  for (let iter = 0; iter < 10; iter++) {
    const sum = [0, 0, 0];
    count = 0;
    for (let i = 0; i < px.length; i += 3) {
      if (sqDist(px, i, c) > r2) continue;
      sum[0]! += px[i] as number;
      sum[1]! += px[i + 1] as number;
      sum[2]! += px[i + 2] as number;
      count++;
    }
    if (count === 0) return { lab: c, count: 0 };
    const next: Lab = [sum[0]! / count, sum[1]! / count, sum[2]! / count];
    const moved = sqDist(Float32Array.from(next), 0, c);
    c = next;
    if (moved < 0.01) break;
  }
  return { lab: c, count };
}

function nearestCounts(px: Float32Array, centres: Lab[]): number[] {
  const counts = new Array<number>(centres.length).fill(0);
  for (let i = 0; i < px.length; i += 3) {
    let best = 0;
    let bestD = Infinity;
    centres.forEach((c, k) => {
      const d = sqDist(px, i, c);
      if (d < bestD) {
        bestD = d;
        best = k;
      }
    });
    counts[best]!++;
  }
  return counts;
}

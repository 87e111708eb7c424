/**
 * Synthetic test images with exactly known attributes, drawn by supersampling (so edges are antialiased
 * the way a renderer's are). Independent of the measurers: only the RNG is shared.
 */
import { makeImage, type RGBImage } from "../../src/eval/measurers/types.js";
import { mulberry32, normalSource } from "../../src/eval/measurers/random.js";

export type RGB = [number, number, number];

/** A coverage function: which part of the pixel-space plane a shape covers (continuous coordinates). */
export type Shape = { color: RGB; inside: (x: number, y: number) => boolean };

const SS = 4; // supersampling factor per axis

/** Paint shapes in order over a background function, with SS x SS supersampling. */
export function paint(
  w: number,
  h: number,
  background: (x: number, y: number) => RGB,
  shapes: Shape[],
): RGBImage {
  const img = makeImage(w, h);
  for (let py = 0; py < h; py++) {
    for (let px = 0; px < w; px++) {
      const acc = [0, 0, 0];
      for (let sy = 0; sy < SS; sy++) {
        for (let sx = 0; sx < SS; sx++) {
          const x = px + (sx + 0.5) / SS;
          const y = py + (sy + 0.5) / SS;
          let c = background(x, y);
          for (const s of shapes) if (s.inside(x, y)) c = s.color;
          acc[0]! += c[0];
          acc[1]! += c[1];
          acc[2]! += c[2];
        }
      }
      const i = (py * w + px) * 3;
      for (let k = 0; k < 3; k++) img.data[i + k] = Math.round(acc[k]! / (SS * SS));
    }
  }
  return img;
}

function mix(a: RGB, b: RGB, t: number): RGB {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

export type LandscapeSpec = {
  size: number;
  horizon: number; // fraction from top at the centre
  tiltDeg?: number; // positive: descends to the right (y down)
  skyTop: RGB;
  skyBottom: RGB;
  groundNear: RGB;
  groundFar: RGB;
  shapes?: Shape[];
};

/** Sky gradient above a (possibly tilted) straight horizon, ground gradient below. */
export function landscape(spec: LandscapeSpec): RGBImage {
  const s = spec.size;
  const slope = Math.tan(((spec.tiltDeg ?? 0) * Math.PI) / 180);
  const yAt = (x: number): number => spec.horizon * s + slope * (x - s / 2);
  const bg = (x: number, y: number): RGB => {
    const yh = yAt(x);
    if (y < yh) return mix(spec.skyTop, spec.skyBottom, Math.max(0, y / Math.max(1, yh)));
    return mix(spec.groundFar, spec.groundNear, Math.min(1, (y - yh) / Math.max(1, s - yh)));
  };
  return paint(s, s, bg, spec.shapes ?? []);
}

/** Axis-aligned block whose bottom edge rests on `bottom` (pixel units). */
export function block(x0: number, x1: number, top: number, bottom: number, color: RGB): Shape {
  return { color, inside: (x, y) => x >= x0 && x < x1 && y >= top && y < bottom };
}

/** Isosceles triangle (a mountain) with its base on y = base. */
export function triangle(cx: number, halfWidth: number, top: number, base: number, color: RGB): Shape {
  return {
    color,
    inside: (x, y) => y < base && y >= top && Math.abs(x - cx) <= (halfWidth * (y - top)) / (base - top),
  };
}

/** Outline of a circle of centre (cx, cy), radius r (to the stroke centre) and stroke width sw. */
export function ring(cx: number, cy: number, r: number, sw: number, color: RGB): Shape {
  return { color, inside: (x, y) => Math.abs(Math.hypot(x - cx, y - cy) - r) <= sw / 2 };
}

/** Outline of an axis-aligned rectangle (stroke centred on the rectangle's edges). */
export function rectOutline(x0: number, y0: number, x1: number, y1: number, sw: number, color: RGB): Shape {
  const hw = sw / 2;
  return {
    color,
    inside: (x, y) => {
      const outer = x >= x0 - hw && x <= x1 + hw && y >= y0 - hw && y <= y1 + hw;
      const inner = x > x0 + hw && x < x1 - hw && y > y0 + hw && y < y1 - hw;
      return outer && !inner;
    },
  };
}

/** Add zero-mean Gaussian noise of standard deviation `sigma` (0..255 units), deterministically. */
export function addNoise(img: RGBImage, sigma: number, seed: number): RGBImage {
  const rnd = normalSource(mulberry32(seed));
  const out = makeImage(img.width, img.height, Uint8Array.from(img.data));
  for (let i = 0; i < out.data.length; i++) {
    out.data[i] = Math.max(0, Math.min(255, Math.round((img.data[i] as number) + sigma * rnd())));
  }
  return out;
}

/** Flat image of regions with given colours and area shares (vertical bands). */
export function bands(size: number, colors: RGB[], shares: number[]): RGBImage {
  const total = shares.reduce((a, b) => a + b, 0);
  const edges: number[] = [];
  let acc = 0;
  for (const s of shares) {
    acc += s;
    edges.push((acc / total) * size);
  }
  return paint(
    size,
    size,
    (x) =>
      colors[
        Math.min(
          colors.length - 1,
          edges.findIndex((e) => x < e),
        )
      ] ?? colors[0]!,
    [],
  );
}

/**
 * A landscape with random (seeded) colours: day-like sky gradient, ground gradient, a mountain, a block
 * (house) and a tall thin block (tree) standing on the horizon, resting on the tilted line.
 */
export function randomLandscape(size: number, horizon: number, tiltDeg: number, seed: number): RGBImage {
  const rnd = mulberry32(seed);
  const col = (lo: number, hi: number): RGB => [0, 1, 2].map(() => lo + rnd() * (hi - lo)) as RGB;
  const slope = Math.tan((tiltDeg * Math.PI) / 180);
  const yAt = (x: number): number => horizon * size + slope * (x - size / 2);
  const s = size / 64;
  const mx = (10 + rnd() * 15) * s;
  const hx = (30 + rnd() * 10) * s;
  const tx = (48 + rnd() * 10) * s;
  return landscape({
    size,
    horizon,
    tiltDeg,
    skyTop: [40 + rnd() * 40, 80 + rnd() * 60, 180 + rnd() * 60],
    skyBottom: col(150, 230),
    groundFar: [40 + rnd() * 60, 100 + rnd() * 80, 30 + rnd() * 50],
    groundNear: col(20, 90),
    shapes: [
      triangle(mx, 9 * s, yAt(mx) - 10 * s, yAt(mx) + 0.5, col(60, 140)),
      block(hx, hx + 8 * s, yAt(hx + 4 * s) - 7 * s, yAt(hx + 4 * s) + 0.5, col(90, 200)),
      block(tx, tx + 2 * s, yAt(tx) - 12 * s, yAt(tx) + 0.5, col(20, 80)),
    ],
  });
}

/** A straight stroke from (x0, y0) to (x1, y1) of width sw with round caps. */
export function segment(x0: number, y0: number, x1: number, y1: number, sw: number, color: RGB): Shape {
  const dx = x1 - x0,
    dy = y1 - y0;
  const len2 = dx * dx + dy * dy;
  return {
    color,
    inside: (x, y) => {
      const t = Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / len2));
      return Math.hypot(x - (x0 + t * dx), y - (y0 + t * dy)) <= sw / 2;
    },
  };
}

/**
 * Line art as the Scenes renderer draws it: one outline ink; a filled disc and a filled rectangle
 * outlined in that ink, and a bare stroke; sub-pixel offsets from the seed.
 */
export function lineArt(size: number, strokePx: number, seed: number): RGBImage {
  const rnd = mulberry32(seed);
  const s = size / 64;
  const j = (): number => rnd() * 2 * s; // sub-pixel jitter
  const ink: RGB = [35, 40, 95];
  const [cx, cy] = [17 * s + j(), 18 * s + j()];
  const [x0, y0, x1, y1] = [38 * s + j(), 8 * s + j(), 58 * s + j(), 28 * s + j()];
  return paint(size, size, () => [246, 241, 229], [
    { color: [120, 190, 120], inside: (x, y) => Math.hypot(x - cx, y - cy) <= 10 * s },
    ring(cx, cy, 10 * s, strokePx, ink),
    block(x0, x1, y0, y1, [235, 170, 60]),
    rectOutline(x0, y0, x1, y1, strokePx, ink),
    segment(8 * s + j(), 56 * s + j(), 52 * s + j(), 44 * s + j(), strokePx, ink),
  ]);
}

/**
 * A landscape with objects for the depth and layout measurers, 64 px, horizon at 0.5 (row 32): a house
 * standing near (base at row 58), a tree far (canopy over a trunk, base at row 38), a mountain behind the
 * horizon, and a person (base at row 49) in front of the base of a far house (row 42); with a point on each
 * (fractions of the side).
 */
export function objectsScene() {
  const horizon = 0.5;
  const image = landscape({
    size: 64,
    horizon,
    skyTop: [60, 120, 215],
    skyBottom: [165, 200, 240],
    groundFar: [70, 140, 60],
    groundNear: [40, 100, 30],
    shapes: [
      triangle(54, 8, 22, 32, [110, 110, 130]), // mountain: its foot is the horizon
      block(6, 16, 46, 58, [200, 60, 50]), // near house
      block(27, 35, 27, 33, [30, 170, 60]), // far tree's canopy...
      block(30, 32, 33, 38, [110, 70, 30]), // ...on its trunk
      block(40, 48, 34, 42, [230, 200, 90]), // a far house...
      block(43, 45, 39, 49, [60, 40, 140]), // ...whose base a nearer person hides
    ],
  });
  const at = (x: number, y: number): [number, number] => [x / 64, y / 64];
  const points = {
    HOUSE: at(11, 52),
    CANOPY: at(31, 29),
    MOUNTAIN: at(54, 28),
    SKY_POINT: at(20, 10),
    FAR_HOUSE: at(44, 36),
    PERSON: at(44, 46),
  };
  return { image, horizon, points };
}

/**
 * Degradations for evaluating the measurers' robustness: what a generator's output may suffer
 * relative to a clean render. Pure and deterministic (noise takes a seed). JPEG needs an encoder and
 * lives in the evaluation script instead.
 */
import { blurInterleaved } from "./filters.js";
import { mulberry32, normalSource } from "./random.js";
import { makeImage, type RGBImage } from "./types.js";

function toBytes(width: number, height: number, f: Float32Array | Float64Array): RGBImage {
  const out = makeImage(width, height);
  for (let i = 0; i < f.length; i++) out.data[i] = Math.max(0, Math.min(255, Math.round(f[i] as number)));
  return out;
}

/** Gaussian blur with standard deviation `sigmaPx` pixels (edges replicated). */
export function gaussianBlur(img: RGBImage, sigmaPx: number): RGBImage {
  const f = Float32Array.from(img.data);
  return toBytes(img.width, img.height, blurInterleaved(f, img.width, img.height, 3, sigmaPx));
}

/** Independent Gaussian noise per channel, standard deviation `sigma` in 0..255 units. */
export function gaussianNoise(img: RGBImage, sigma: number, seed: number): RGBImage {
  const rnd = normalSource(mulberry32(seed));
  const f = Float64Array.from(img.data, (v) => v + sigma * rnd());
  return toBytes(img.width, img.height, f);
}

export type ColourShift = {
  /** Hue rotation in degrees (about the grey axis, luminance kept). */
  hueDeg: number;
  /** Multiplicative brightness change: 0.1 = 10% brighter. */
  brightness: number;
};

/**
 * 3x3 matrix of a luminance-preserving hue rotation in sRGB values (the matrix of the CSS/SVG
 * `hue-rotate` filter, Filter Effects Module Level 1, feColorMatrix type="hueRotate").
 */
export function hueRotationMatrix(deg: number): number[] {
  const c = Math.cos((deg * Math.PI) / 180);
  const s = Math.sin((deg * Math.PI) / 180);
  return [
    0.213 + c * 0.787 - s * 0.213,
    0.715 - c * 0.715 - s * 0.715,
    0.072 - c * 0.072 + s * 0.928,
    0.213 - c * 0.213 + s * 0.143,
    0.715 + c * 0.285 + s * 0.14,
    0.072 - c * 0.072 - s * 0.283,
    0.213 - c * 0.213 - s * 0.787,
    0.715 - c * 0.715 + s * 0.715,
    0.072 + c * 0.928 + s * 0.072,
  ];
}

/** Apply a colour shift to one colour (0..255 per channel, unrounded). */
export function shiftColour(rgb: readonly number[], shift: ColourShift): [number, number, number] {
  const m = hueRotationMatrix(shift.hueDeg);
  const g = 1 + shift.brightness;
  const out = [0, 1, 2].map((r) => {
    const v =
      (m[r * 3] as number) * (rgb[0] as number) +
      (m[r * 3 + 1] as number) * (rgb[1] as number) +
      (m[r * 3 + 2] as number) * (rgb[2] as number);
    return Math.max(0, Math.min(255, v * g));
  });
  return [out[0] as number, out[1] as number, out[2] as number];
}

/** Apply a colour shift to every pixel. */
export function colourShift(img: RGBImage, shift: ColourShift): RGBImage {
  const out = makeImage(img.width, img.height);
  for (let i = 0; i < img.data.length; i += 3) {
    const c = shiftColour(
      [img.data[i] as number, img.data[i + 1] as number, img.data[i + 2] as number],
      shift,
    );
    out.data[i] = Math.round(c[0]);
    out.data[i + 1] = Math.round(c[1]);
    out.data[i + 2] = Math.round(c[2]);
  }
  return out;
}

/** A random shift with |hue| <= maxHueDeg and |brightness| <= maxBrightness, from a seed. */
export function randomColourShift(seed: number, maxHueDeg: number, maxBrightness: number): ColourShift {
  const rnd = mulberry32(seed);
  return { hueDeg: (2 * rnd() - 1) * maxHueDeg, brightness: (2 * rnd() - 1) * maxBrightness };
}

/**
 * Colour science for the measurers: sRGB (IEC 61966-2-1) -> linear -> XYZ (D65) -> CIELAB, and the
 * CIEDE2000 colour difference as written out in Sharma, Wu & Dalal, "The CIEDE2000 color-difference
 * formula: implementation notes, supplementary test data, and mathematical observations" (2005).
 */
import type { Lab, LabImage, RGBImage } from "./types.js";

// D65 reference white, 2 degree observer, Y normalised to 1.
const XN = 0.95047;
const YN = 1.0;
const ZN = 1.08883;
const EPS = 216 / 24389; // (6/29)^3: where CIELAB's cube root meets its linear segment
const KAPPA = 24389 / 27;

/** sRGB channel in [0,1] -> linear light (the standard piecewise transfer function). */
export function srgbToLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** Linear light in [0,1] -> sRGB channel in [0,1]. */
export function linearToSrgb(c: number): number {
  return c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055;
}

// 256-entry table: every measurer converts whole images, and pow() per channel dominates otherwise.
const LINEAR_LUT = Float64Array.from({ length: 256 }, (_, i) => srgbToLinear(i / 255));

function labF(t: number): number {
  return t > EPS ? Math.cbrt(t) : (KAPPA * t + 16) / 116;
}

function labFInv(f: number): number {
  const t = f * f * f;
  return t > EPS ? t : (116 * f - 16) / KAPPA;
}

/** Linear RGB -> CIELAB via XYZ (sRGB primaries, D65). */
export function linearRgbToLab(r: number, g: number, b: number): Lab {
  const x = 0.4124564 * r + 0.3575761 * g + 0.1804375 * b;
  const y = 0.2126729 * r + 0.7151522 * g + 0.072175 * b;
  const z = 0.0193339 * r + 0.119192 * g + 0.9503041 * b;
  const fx = labF(x / XN);
  const fy = labF(y / YN);
  const fz = labF(z / ZN);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** 8-bit sRGB (0..255, fractional values allowed) -> CIELAB. */
export function rgbToLab(r: number, g: number, b: number): Lab {
  const lin = (v: number): number =>
    Number.isInteger(v) && v >= 0 && v <= 255 ? (LINEAR_LUT[v] as number) : srgbToLinear(v / 255);
  return linearRgbToLab(lin(r), lin(g), lin(b));
}

/** CIELAB -> 8-bit sRGB, clipped to the gamut and rounded. */
export function labToRgb(lab: Lab): [number, number, number] {
  const fy = (lab[0] + 16) / 116;
  const x = XN * labFInv(fy + lab[1] / 500);
  const y = YN * labFInv(fy);
  const z = ZN * labFInv(fy - lab[2] / 200);
  const r = 3.2404542 * x - 1.5371385 * y - 0.4985314 * z;
  const g = -0.969266 * x + 1.8760108 * y + 0.041556 * z;
  const b = 0.0556434 * x - 0.2040259 * y + 1.0572252 * z;
  const to8 = (v: number): number => Math.round(255 * Math.min(1, Math.max(0, linearToSrgb(Math.max(0, v)))));
  return [to8(r), to8(g), to8(b)];
}

/** "#rrggbb" -> [r, g, b] bytes. Throws on anything else, naming what was expected. */
export function hexToRgb(hex: string): [number, number, number] {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  if (!m || m[1] === undefined) throw new Error(`Expected a colour like "#1a2b3c", got "${hex}"`);
  const n = parseInt(m[1], 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export function rgbToHex(rgb: readonly [number, number, number]): string {
  return "#" + rgb.map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");
}

export function hexToLab(hex: string): Lab {
  const [r, g, b] = hexToRgb(hex);
  return rgbToLab(r, g, b);
}

export function labToHex(lab: Lab): string {
  return rgbToHex(labToRgb(lab));
}

/** Convert a whole image to CIELAB (interleaved). */
export function imageToLab(img: RGBImage): LabImage {
  const n = img.width * img.height;
  const out = new Float32Array(n * 3);
  const d = img.data;
  for (let i = 0; i < n * 3; i += 3) {
    const lab = linearRgbToLab(
      LINEAR_LUT[d[i] as number] as number,
      LINEAR_LUT[d[i + 1] as number] as number,
      LINEAR_LUT[d[i + 2] as number] as number,
    );
    out[i] = lab[0];
    out[i + 1] = lab[1];
    out[i + 2] = lab[2];
  }
  return { width: img.width, height: img.height, data: out };
}

/** Chroma and hue angle (degrees, [0, 360)) of a CIELAB colour. */
export function labToLch(lab: Lab): { L: number; C: number; h: number } {
  const C = Math.hypot(lab[1], lab[2]);
  let h = (Math.atan2(lab[2], lab[1]) * 180) / Math.PI;
  if (h < 0) h += 360;
  return { L: lab[0], C, h };
}

const DEG = Math.PI / 180;
const POW25_7 = 25 ** 7;

/** Hue angle in degrees [0, 360); 0 for the achromatic case as Sharma et al. specify. */
function hueDeg(b: number, a: number): number {
  if (a === 0 && b === 0) return 0;
  const h = Math.atan2(b, a) / DEG;
  return h < 0 ? h + 360 : h;
}

/**
 * CIEDE2000 colour difference (kL = kC = kH = 1), Sharma, Wu & Dalal (2005), equations (1)-(25).
 * Symmetric in its arguments.
 */
export function ciede2000(lab1: Lab, lab2: Lab): number {
  const [L1, a1, b1] = lab1;
  const [L2, a2, b2] = lab2;
  const Cbar = (Math.hypot(a1, b1) + Math.hypot(a2, b2)) / 2;
  const Cbar7 = Cbar ** 7;
  const G = 0.5 * (1 - Math.sqrt(Cbar7 / (Cbar7 + POW25_7)));
  const a1p = (1 + G) * a1;
  const a2p = (1 + G) * a2;
  const C1p = Math.hypot(a1p, b1);
  const C2p = Math.hypot(a2p, b2);
  const h1p = hueDeg(b1, a1p);
  const h2p = hueDeg(b2, a2p);

  const dLp = L2 - L1;
  const dCp = C2p - C1p;
  let dhp = 0;
  if (C1p * C2p !== 0) {
    dhp = h2p - h1p;
    if (dhp > 180) dhp -= 360;
    else if (dhp < -180) dhp += 360;
  }
  const dHp = 2 * Math.sqrt(C1p * C2p) * Math.sin((dhp / 2) * DEG);

  const Lbp = (L1 + L2) / 2;
  const Cbp = (C1p + C2p) / 2;
  let hbp = h1p + h2p;
  if (C1p * C2p !== 0) {
    if (Math.abs(h1p - h2p) <= 180) hbp = (h1p + h2p) / 2;
    else hbp = h1p + h2p < 360 ? (h1p + h2p + 360) / 2 : (h1p + h2p - 360) / 2;
  }
  const T =
    1 -
    0.17 * Math.cos((hbp - 30) * DEG) +
    0.24 * Math.cos(2 * hbp * DEG) +
    0.32 * Math.cos((3 * hbp + 6) * DEG) -
    0.2 * Math.cos((4 * hbp - 63) * DEG);
  const dTheta = 30 * Math.exp(-(((hbp - 275) / 25) ** 2));
  const Cbp7 = Cbp ** 7;
  const RC = 2 * Math.sqrt(Cbp7 / (Cbp7 + POW25_7));
  const SL = 1 + (0.015 * (Lbp - 50) ** 2) / Math.sqrt(20 + (Lbp - 50) ** 2);
  const SC = 1 + 0.045 * Cbp;
  const SH = 1 + 0.015 * Cbp * T;
  const RT = -Math.sin(2 * dTheta * DEG) * RC;
  const tL = dLp / SL;
  const tC = dCp / SC;
  const tH = dHp / SH;
  return Math.sqrt(tL * tL + tC * tC + tH * tH + RT * tC * tH);
}

/** Squared Euclidean distance in CIELAB (CIE76): cheap, for inner loops such as k-means. */
export function deltaE76Sq(l1: number, a1: number, b1: number, l2: number, a2: number, b2: number): number {
  const dl = l1 - l2;
  const da = a1 - a2;
  const db = b1 - b2;
  return dl * dl + da * da + db * db;
}

/**
 * Sky measurer: day / sunset / night / overcast from the region above the horizon.
 *
 * Features (all robust medians over the sky region, so the sun, stars and objects in front of the sky
 * barely move them): lightness, chroma and hue of the upper and lower sky, and the number of small
 * bright blobs (stars) against a dark sky. Rules, in order: dark -> night; grey -> overcast; warm
 * (red/orange/pink) low sky -> sunset; else day. The confidence is the margin to the nearest rule
 * boundary, mapped to [0.5, 1].
 */
import { imageToLab, labToLch } from "./colour.js";
import { labelComponents } from "./components.js";
import { median } from "./filters.js";
import type { Lab, RGBImage } from "./types.js";

export type SkyKind = "day" | "sunset" | "night" | "overcast";

export type SkyFeatures = {
  /** Median lightness of the whole sky, upper quarter and lower quarter of the sky rows. */
  L: number;
  Ltop: number;
  Lbottom: number;
  /** Median chroma of the sky and of its lower quarter. */
  C: number;
  Cbottom: number;
  /** Hue angle (deg) of the median a*, b* of the lower and upper quarter. */
  hueBottom: number;
  hueTop: number;
  /** Small bright blobs (stars) per 1000 sky pixels. */
  stars: number;
};

export type SkyResult = { sky: SkyKind; confidence: number; features: SkyFeatures };

type Line = { horizon: number; horizon_tilt_deg: number };

function medianLab(pixels: number[], lab: Float32Array): Lab {
  return [0, 1, 2].map((c) => median(pixels.map((i) => lab[i * 3 + c] as number))) as Lab;
}

/** Pixels above the line (minus a margin), listed by quarter of the sky's height. */
function skyPixels(w: number, h: number, line: Line): { all: number[]; top: number[]; bottom: number[] } {
  const slope = Math.tan((line.horizon_tilt_deg * Math.PI) / 180);
  const margin = 1.5 * (h / 64);
  const all: number[] = [],
    top: number[] = [],
    bottom: number[] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const yl = line.horizon * h + slope * (x + 0.5 - w / 2) - margin;
      if (y + 0.5 >= yl) continue;
      const i = y * w + x;
      all.push(i);
      if (y + 0.5 < 0.25 * yl) top.push(i);
      if (y + 0.5 >= 0.75 * yl) bottom.push(i);
    }
  }
  return { all, top, bottom };
}

/** Bright specks: components of pixels much lighter than the sky median, each at most a few pixels. */
function countStars(lab: Float32Array, w: number, h: number, pixels: number[], Lmed: number): number {
  const mask = new Uint8Array(w * h);
  for (const i of pixels) if ((lab[i * 3] as number) > Lmed + 25) mask[i] = 1;
  const maxArea = Math.max(4, (6 * w * h) / 4096);
  return labelComponents(mask, w, h).components.filter((c) => c.area <= maxArea).length;
}

export function skyFeatures(img: RGBImage, line: Line): SkyFeatures | null {
  const { width: w, height: h } = img;
  const lab = imageToLab(img).data;
  const px = skyPixels(w, h, line);
  if (px.all.length < 0.03 * w * h || px.top.length === 0 || px.bottom.length === 0) return null;
  const chroma = (i: number): number => Math.hypot(lab[i * 3 + 1] as number, lab[i * 3 + 2] as number);
  const mAll = medianLab(px.all, lab),
    mTop = medianLab(px.top, lab),
    mBot = medianLab(px.bottom, lab);
  return {
    L: mAll[0],
    Ltop: mTop[0],
    Lbottom: mBot[0],
    C: median(px.all.map(chroma)),
    Cbottom: median(px.bottom.map(chroma)),
    hueBottom: labToLch(mBot).h,
    hueTop: labToLch(mTop).h,
    stars: (1000 * countStars(lab, w, h, px.all, mAll[0])) / px.all.length,
  };
}

// Rule thresholds (CIELAB units / degrees).
const NIGHT_L = 32;
const OVERCAST_C = 12;
const WARM_C = 18;

/** Is a hue warm (red, orange, yellow-orange, pink)? Lab hue: red ~40, orange ~60, yellow ~90, pink ~350. */
function warmth(hue: number): number {
  const h = hue > 180 ? hue - 360 : hue; // pink/magenta as small negatives
  return Math.min(h + 40, 80 - h); // > 0 inside (-40, 80) degrees
}

export function classifySky(f: SkyFeatures): SkyResult {
  const conf = (margin: number, scale: number): number => 0.5 + 0.5 * Math.min(1, Math.abs(margin) / scale);
  if (f.L < NIGHT_L || (f.Ltop < NIGHT_L - 5 && f.stars > 1)) {
    return { sky: "night", confidence: conf(NIGHT_L - f.L, 15), features: f };
  }
  if (f.C < OVERCAST_C) return { sky: "overcast", confidence: conf(OVERCAST_C - f.C, 8), features: f };
  const warm = warmth(f.hueBottom);
  if (warm > 0 && f.Cbottom > WARM_C) {
    return { sky: "sunset", confidence: Math.min(conf(warm, 30), conf(f.Cbottom - WARM_C, 10)), features: f };
  }
  return { sky: "day", confidence: Math.min(conf(warm, 30), conf(f.C - OVERCAST_C, 8)), features: f };
}

/** Classify the sky above the given horizon; null when too little sky is visible. */
export function measureSky(img: RGBImage, line: Line): SkyResult | null {
  const f = skyFeatures(img, line);
  return f ? classifySky(f) : null;
}

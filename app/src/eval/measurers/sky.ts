/**
 * Sky measurer: day / sunset / night / overcast from the region above the horizon.
 *
 * Features are robust medians over the sky region (the sun, stars and objects in front of the sky
 * barely move them): lightness and chroma of the whole sky, lightness of its upper and lower quarter,
 * and the number of small bright blobs (stars). Rules: dark -> night; mid-dark, or much lighter at the
 * bottom than at the top -> sunset; otherwise grey -> overcast, coloured -> day. The confidence is the
 * margin to the nearest rule boundary, mapped to [0.5, 1].
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
  const mAll = medianLab(px.all, lab),
    mTop = medianLab(px.top, lab),
    mBot = medianLab(px.bottom, lab);
  return {
    L: mAll[0],
    Ltop: mTop[0],
    Lbottom: mBot[0],
    // Chroma of the median colour, not the median chroma: noise would lift a grey sky's chroma.
    C: Math.hypot(mAll[1], mAll[2]),
    Cbottom: Math.hypot(mBot[1], mBot[2]),
    hueBottom: labToLch(mBot).h,
    hueTop: labToLch(mTop).h,
    stars: (1000 * countStars(lab, w, h, px.all, mAll[0])) / px.all.length,
  };
}

// Rule thresholds (CIELAB units), set on Scenes renders of seed 0 (docs/measurers.md), midway
// between the classes: night skies there have L <= 17, sunsets 28..46 with a lightness rise of
// 13..33 from top to bottom, overcast and day skies L >= 57 with a rise under 10; overcast chroma
// <= 10, day >= 17. Hue is not used: palettes tint every kind of sky.
const NIGHT_L = 22;
const SUNSET_L = 52;
const SUNSET_RISE = 11.5;
const OVERCAST_C = 13.5;

/** Confidence from a margin: 0.5 on the boundary, 1 at `scale` units or more from it. */
function conf(margin: number, scale: number): number {
  return 0.5 + 0.5 * Math.min(1, Math.abs(margin) / scale);
}

export function classifySky(f: SkyFeatures): SkyResult {
  const rise = f.Lbottom - f.Ltop;
  if (f.L < NIGHT_L || (f.L < NIGHT_L + 8 && f.stars > 1 && rise < SUNSET_RISE)) {
    return { sky: "night", confidence: conf(NIGHT_L - f.L, 8), features: f };
  }
  const grey = conf(OVERCAST_C - f.C, 5);
  // A grey sky without a lightness rise is overcast even when dim; a sunset is coloured.
  if (f.C < OVERCAST_C && rise < SUNSET_RISE) {
    return { sky: "overcast", confidence: Math.min(grey, conf(SUNSET_RISE - rise, 3)), features: f };
  }
  if (f.L < SUNSET_L || (rise > SUNSET_RISE && f.L < SUNSET_L + 8)) {
    const margin = Math.max(SUNSET_L - f.L, Math.min(rise - SUNSET_RISE, SUNSET_L + 8 - f.L));
    return { sky: "sunset", confidence: Math.min(conf(margin, 8), conf(f.L - NIGHT_L, 8)), features: f };
  }
  const bright = conf(f.L - SUNSET_L, 8);
  if (f.C < OVERCAST_C) return { sky: "overcast", confidence: Math.min(bright, grey), features: f };
  return { sky: "day", confidence: Math.min(bright, grey), features: f };
}

/** Classify the sky above the given horizon; null when too little sky is visible. */
export function measureSky(img: RGBImage, line: Line): SkyResult | null {
  const f = skyFeatures(img, line);
  return f ? classifySky(f) : null;
}

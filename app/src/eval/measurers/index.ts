/**
 * The measurers' one entry point: estimate a Scenes attribute set from any RGB image, with the field
 * names and conventions of docs/world-contract.md, and null where a measure does not apply.
 */
import { rgbToLab } from "./colour.js";
import { measureHorizon } from "./horizon.js";
import { paperColour } from "./paper.js";
import { measureLandscapeObjects, measureLineArtObjects, type MeasuredObject } from "./objects.js";
import { imagePalette, type PaletteColour } from "./palette.js";
import { measureSky, type SkyKind } from "./sky.js";
import { measureStrokeWidth } from "./stroke.js";
import type { RGBImage } from "./types.js";

export type SceneKind = "landscape" | "lineart";

export type Measurement = {
  kind: SceneKind;
  /** True when `kind` was guessed from the image rather than given. */
  kind_guessed: boolean;
  horizon: number | null;
  horizon_tilt_deg: number | null;
  horizon_confidence: number | null;
  palette: PaletteColour[];
  stroke_width_px: number | null;
  stroke_confidence: number | null;
  sky: SkyKind | null;
  sky_confidence: number | null;
  objects: MeasuredObject[];
};

export type MeasureOptions = { kind?: SceneKind };

/**
 * Line art is ink on paper: the paper runs all around the border, shapes sit inside. A landscape's
 * border always crosses from sky to ground, so at most about two thirds of it share one colour
 * (Scenes renders: landscapes <= 0.70, line art >= 0.82 even blurred; threshold 0.78).
 * Returns the share of border pixels within 30 (RGB units) of the most common colour.
 */
export function guessKind(img: RGBImage): { kind: SceneKind; borderPaperShare: number } {
  const { width: w, height: h } = img;
  const paper = paperColour(img);
  let near = 0;
  let total = 0;
  const visit = (x: number, y: number): void => {
    const i = (y * w + x) * 3;
    const d = Math.hypot(
      (img.data[i] as number) - paper[0],
      (img.data[i + 1] as number) - paper[1],
      (img.data[i + 2] as number) - paper[2],
    );
    total++;
    if (d < 30) near++;
  };
  for (let x = 0; x < w; x++) {
    visit(x, 0);
    visit(x, h - 1);
  }
  for (let y = 1; y < h - 1; y++) {
    visit(0, y);
    visit(w - 1, y);
  }
  const share = near / total;
  const light = rgbToLab(paper[0], paper[1], paper[2])[0] > 60;
  return { kind: light && share > 0.78 ? "lineart" : "landscape", borderPaperShare: share };
}

export function measure(img: RGBImage, opts: MeasureOptions = {}): Measurement {
  const kind = opts.kind ?? guessKind(img).kind;
  const base = { kind, kind_guessed: opts.kind === undefined, palette: imagePalette(img) };
  if (kind === "lineart") {
    const stroke = measureStrokeWidth(img);
    return {
      ...base,
      horizon: null,
      horizon_tilt_deg: null,
      horizon_confidence: null,
      stroke_width_px: stroke?.stroke_width_px ?? null,
      stroke_confidence: stroke?.confidence ?? null,
      sky: null,
      sky_confidence: null,
      objects: measureLineArtObjects(img, stroke ? { strokePx: stroke.stroke_width_px } : {}),
    };
  }
  const hz = measureHorizon(img);
  const sky = hz ? measureSky(img, hz) : null;
  return {
    ...base,
    horizon: hz?.horizon ?? null,
    horizon_tilt_deg: hz?.horizon_tilt_deg ?? null,
    horizon_confidence: hz?.confidence ?? null,
    stroke_width_px: null,
    stroke_confidence: null,
    sky: sky?.sky ?? null,
    sky_confidence: sky?.confidence ?? null,
    objects: hz ? measureLandscapeObjects(img, hz) : [],
  };
}

export { measureHorizon } from "./horizon.js";
export { measurePalette } from "./palette.js";
export { paletteDistance } from "./palette-distance.js";
export { measureStrokeWidth } from "./stroke.js";
export { measureSky, classifySky, skyFeatures } from "./sky.js";
export { measureLandscapeObjects, measureLineArtObjects } from "./objects.js";
export { ciede2000, rgbToLab, hexToLab, labToHex } from "./colour.js";
export { gaussianBlur, gaussianNoise, colourShift, randomColourShift, shiftColour } from "./degrade.js";
export type { RGBImage, Lab } from "./types.js";
export type { HorizonResult } from "./horizon.js";
export type { PaletteColour } from "./palette.js";
export type { StrokeResult } from "./stroke.js";
export type { SkyKind, SkyResult, SkyFeatures } from "./sky.js";
export type { MeasuredObject } from "./objects.js";

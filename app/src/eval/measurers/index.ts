/**
 * The measurers' one entry point: estimate a Scenes attribute set from any RGB image, with the field
 * names and conventions of docs/world-contract.md, and null where a measure does not apply.
 */
import { rgbToLab } from "./colour.js";
import { measureHorizon } from "./horizon.js";
import { paperColour } from "./ink.js";
import { measureLandscapeObjects, measureLineArtObjects, type MeasuredObject } from "./objects.js";
import { measurePalette, type PaletteColour } from "./palette.js";
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
 * Line art is ink on paper: most of the image is one light colour. A landscape's largest flat area
 * (sky) is rarely both that large and that uniform.
 */
export function guessKind(img: RGBImage): { kind: SceneKind; paperShare: number } {
  const paper = paperColour(img);
  let near = 0;
  const n = img.width * img.height;
  for (let i = 0; i < n; i++) {
    const d = Math.hypot(
      (img.data[i * 3] as number) - paper[0],
      (img.data[i * 3 + 1] as number) - paper[1],
      (img.data[i * 3 + 2] as number) - paper[2],
    );
    if (d < 30) near++;
  }
  const paperShare = near / n;
  const light = rgbToLab(paper[0], paper[1], paper[2])[0] > 75;
  return { kind: light && paperShare > 0.5 ? "lineart" : "landscape", paperShare };
}

export function measure(img: RGBImage, opts: MeasureOptions = {}): Measurement {
  const kind = opts.kind ?? guessKind(img).kind;
  const base = { kind, kind_guessed: opts.kind === undefined, palette: measurePalette(img) };
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
      objects: measureLineArtObjects(img),
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
export { measurePalette, paletteDistance } from "./palette.js";
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

/**
 * Object measurer: regions that differ from the local background, as boxes.
 *
 * Landscapes: the sky and the ground each get a smooth robust background model (background.ts); pixels
 * far from their side's model are object pixels, and their connected components (above a minimum
 * size) are the objects. Line art: the connected components of the ink mask. This finds large objects
 * reliably; it cannot separate overlapping objects of similar colour, nor see an object painted in its
 * background's colour.
 */
import { fitBackground, type BackgroundModel } from "./background.js";
import { imageToLab } from "./colour.js";
import { labelComponents, type Component } from "./components.js";
import { blurInterleaved } from "./filters.js";
import { imagePalette } from "./palette.js";
import { outlineMap } from "./outline.js";
import type { Lab, LabImage, RGBImage } from "./types.js";

export type MeasuredObject = {
  /** [x0, y0, x1, y1] as fractions of the image side (same convention as the renderer's boxes). */
  box: [number, number, number, number];
  /** Pixel area as a fraction of the image. */
  area: number;
  /** Whether the object crosses or rests on the horizon line (landscapes only). */
  on_horizon: boolean;
};

export type ObjectOptions = {
  /** Smallest object kept, as a fraction of the image area. */
  minArea?: number;
  /** Split the landscape object mask by palette colour (default true). */
  splitByColour?: boolean;
};

export type Line = { horizon: number; horizon_tilt_deg: number };

/** The horizon of a measured landscape, or null where the image is no landscape with a horizon found. */
export function landscapeLine(m: {
  kind: string;
  horizon: number | null;
  horizon_tilt_deg: number | null;
}): Line | null {
  if (m.kind !== "landscape" || m.horizon === null || m.horizon_tilt_deg === null) return null;
  return { horizon: m.horizon, horizon_tilt_deg: m.horizon_tilt_deg };
}

function toObject(c: Component, w: number, h: number, onHorizon: boolean): MeasuredObject {
  return {
    box: [c.box[0] / w, c.box[1] / h, c.box[2] / w, c.box[3] / h],
    area: c.area / (w * h),
    on_horizon: onHorizon,
  };
}

function smoothedLab(img: RGBImage): LabImage {
  const lab = imageToLab(img);
  return { ...lab, data: blurInterleaved(lab.data, img.width, img.height, 3, 0.5 * (img.height / 64)) };
}

function dist2(a: Lab, b: Lab): number {
  return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + (a[2] - b[2]) ** 2;
}

/** Squared distance from p to the segment [a, b]. */
function segmentDist2(p: Lab, a: Lab, b: Lab): number {
  const v: Lab = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
  const vv = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
  const t =
    vv > 0
      ? Math.max(0, Math.min(1, ((p[0] - a[0]) * v[0] + (p[1] - a[1]) * v[1] + (p[2] - a[2]) * v[2]) / vv))
      : 0;
  return dist2(p, [a[0] + t * v[0], a[1] + t * v[1], a[2] + t * v[2]]);
}

/** Deviation (CIE76) beyond which a pixel is not background: texture and noise of the side, or 12. */
function threshold(m: BackgroundModel): number {
  return Math.max(12, 3 * m.spread);
}

/** The horizon line's height in pixels at column x (a pixel's centre is x + 0.5) of a w x h image. */
export function horizonRow(line: Line, w: number, h: number): (x: number) => number {
  const slope = Math.tan((line.horizon_tilt_deg * Math.PI) / 180);
  return (x) => line.horizon * h + slope * (x + 0.5 - w / 2);
}

/** Rows within this many pixels of the horizon line are its antialiased blend: neither sky nor ground. */
export function lineMargin(h: number): number {
  return 1.5 * (h / 64);
}

/**
 * The object pixels of a landscape with the given horizon line (1: object, 0: background), with the image in
 * smoothed CIELAB that decided them.
 */
export function landscapeObjectMask(img: RGBImage, line: Line): { mask: Uint8Array; lab: LabImage } {
  const { width: w, height: h } = img;
  const lab = smoothedLab(img);
  const yLine = horizonRow(line, w, h);
  const margin = lineMargin(h);
  const sky = new Uint8Array(w * h);
  const ground = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const d = y + 0.5 - yLine(x);
      if (d < -margin) sky[y * w + x] = 1;
      else if (d > margin) ground[y * w + x] = 1;
    }
  }
  const skyModel = fitBackground(lab, sky);
  const groundModel = fitBackground(lab, ground);
  const mask = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const px: Lab = [
        lab.data[i * 3] as number,
        lab.data[i * 3 + 1] as number,
        lab.data[i * 3 + 2] as number,
      ];
      const dev = (m: BackgroundModel | null): number =>
        m ? Math.sqrt(dist2(px, m.at(x, y))) / threshold(m) : Infinity;
      let score: number;
      if (sky[i]) score = dev(skyModel);
      else if (ground[i]) score = dev(groundModel);
      else if (skyModel && groundModel) {
        // On the line itself antialiasing blends sky and ground: background is anything on that blend.
        const t = Math.max(threshold(skyModel), threshold(groundModel));
        score = Math.sqrt(segmentDist2(px, skyModel.at(x, y), groundModel.at(x, y))) / t;
      } else score = Math.min(dev(skyModel), dev(groundModel));
      if (score > 1) mask[i] = 1;
    }
  }
  return { mask, lab };
}

/** Objects in a landscape with the given horizon line. */
export function measureLandscapeObjects(
  img: RGBImage,
  line: Line,
  opts: ObjectOptions = {},
): MeasuredObject[] {
  const { width: w, height: h } = img;
  const { mask, lab } = landscapeObjectMask(img, line);
  const yLine = horizonRow(line, w, h);
  const margin = lineMargin(h);
  const minPx = (opts.minArea ?? 0.003) * w * h;
  // Split the object mask by colour, so that objects of different colours that touch or overlap (a
  // tree in front of a house) come out as separate boxes.
  const split = opts.splitByColour ?? true;
  const components = split ? componentsByColour(img, lab, mask) : labelComponents(mask, w, h).components;
  return components
    .filter((c) => c.area >= minPx)
    .map((c) => {
      const cx = (c.box[0] + c.box[2]) / 2;
      const yl = yLine(cx);
      return toObject(c, w, h, c.box[1] < yl + margin && c.box[3] > yl - 2 * margin);
    })
    .sort((a, b) => b.area - a.area);
}

/** Connected components of the mask within each palette colour (nearest palette colour per pixel). */
function componentsByColour(img: RGBImage, lab: LabImage, mask: Uint8Array): Component[] {
  const { width: w, height: h } = img;
  const colours = imagePalette(img).map((c) => c.lab);
  const index = new Int32Array(w * h).fill(-1);
  for (let i = 0; i < w * h; i++) {
    if (!mask[i]) continue;
    const px: Lab = [lab.data[i * 3] as number, lab.data[i * 3 + 1] as number, lab.data[i * 3 + 2] as number];
    let best = 0;
    colours.forEach((c, k) => {
      if (dist2(px, c) < dist2(px, colours[best] as Lab)) best = k;
    });
    index[i] = best;
  }
  return colours.flatMap(
    (_, k) =>
      labelComponents(
        Uint8Array.from(index, (v) => (v === k ? 1 : 0)),
        w,
        h,
      ).components,
  );
}

/**
 * Shapes in line art, by their interiors: every outlined shape encloses a region of one colour (its
 * fill, or the paper when unfilled) that does not reach the image border. Each such region, grown by
 * half the stroke width, is a shape's box. Shapes drawn all ink (stroke wider than the shape) have no
 * interior and are missed.
 */
export function measureLineArtObjects(
  img: RGBImage,
  opts: ObjectOptions & { strokePx?: number } = {},
): MeasuredObject[] {
  const { width: w, height: h } = img;
  const outline = outlineMap(img);
  if (!outline) return [];
  const notInk = Uint8Array.from(outline.mask, (v) => (v ? 0 : 1));
  const lab = smoothedLab(img);
  const minPx = (opts.minArea ?? 0.003) * w * h;
  const grow = (opts.strokePx ?? 2) / 2;
  return componentsByColour(img, lab, notInk)
    .filter((c) => c.area >= minPx && c.box[0] > 0 && c.box[1] > 0 && c.box[2] < w && c.box[3] < h)
    .map((c) => {
      const b: Component = {
        ...c,
        box: [c.box[0] - grow, c.box[1] - grow, c.box[2] + grow, c.box[3] + grow].map((v, k) =>
          Math.min(k % 2 ? h : w, Math.max(0, v)),
        ) as [number, number, number, number],
      };
      return toObject(b, w, h, false);
    })
    .sort((a, b) => b.area - a.area);
}

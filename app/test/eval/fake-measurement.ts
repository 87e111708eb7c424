/** Measurements made up for the evaluation tests: a landscape with every field set, overridable. */
import { hexToLab } from "../../src/eval/measurers/colour.js";
import type { Measurement } from "../../src/eval/measurers/index.js";
import { makeImage, type RGBImage } from "../../src/eval/measurers/types.js";

export function measurement(over: Partial<Measurement> = {}): Measurement {
  return {
    kind: "landscape",
    kind_guessed: true,
    horizon: 0.5,
    horizon_tilt_deg: 0,
    horizon_confidence: 1,
    palette: [{ hex: "#336699", lab: hexToLab("#336699"), weight: 1 }],
    stroke_width_px: null,
    stroke_confidence: null,
    sky: "day",
    sky_confidence: 1,
    objects: [],
    ...over,
  };
}

/** A blank square image of the given side: what a rule that reads only the measurement is handed. */
export function image(side: number): RGBImage {
  return makeImage(side, side);
}

import { describe, expect, it } from "vitest";
import { gaussianBlur, gaussianNoise, colourShift } from "../../src/eval/measurers/degrade.js";
import { lowestMode, measureStrokeWidth } from "../../src/eval/measurers/stroke.js";
import { lineArt, paint, ring } from "./synth.js";

const WIDTHS_AT_64 = [1, 1.5, 2, 2.5, 3, 4, 5, 6];

describe("measureStrokeWidth", () => {
  it.each([64, 128])("recovers continuous widths on clean %i px line art within 8%%", (size) => {
    WIDTHS_AT_64.forEach((w64, i) => {
      const w = (w64 * size) / 64;
      const r = measureStrokeWidth(lineArt(size, w, i + 1));
      expect(r, `width ${w}`).not.toBeNull();
      // A stroke of about 1 px rarely covers any pixel fully, so its ink colour is seen only partly
      // covered; hence the 0.1 px floor.
      expect(Math.abs(r!.stroke_width_px - w), `width ${w}`).toBeLessThanOrEqual(Math.max(0.1, 0.08 * w));
    });
  });

  it("tells apart widths half a pixel apart", () => {
    const got = [2, 2.5, 3, 3.5].map((w) => measureStrokeWidth(lineArt(64, w, 11))!.stroke_width_px);
    for (let i = 1; i < got.length; i++) expect(got[i]!).toBeGreaterThan(got[i - 1]! + 0.3);
  });

  it("stays within 10% under noise and colour shift", () => {
    WIDTHS_AT_64.forEach((w, i) => {
      const img = lineArt(64, w, i + 20);
      for (const d of [gaussianNoise(img, 10, i), colourShift(img, { hueDeg: -25, brightness: -0.1 })]) {
        expect(Math.abs(measureStrokeWidth(d)!.stroke_width_px - w), `width ${w}`).toBeLessThanOrEqual(
          Math.max(0.12, 0.1 * w),
        );
      }
    });
  });

  // Blur lowers the peak of thin strokes, and with it the estimated ink contrast, so they read wider
  // (a 2 px stroke under a 1 px blur reads ~3 px); see docs/measurers.md. Thick strokes keep their core.
  it("stays within 20% under a one-pixel blur for strokes of 3 px and more", () => {
    [3, 4, 5, 6].forEach((w, i) => {
      const r = measureStrokeWidth(gaussianBlur(lineArt(64, w, i + 40), 1));
      expect(Math.abs(r!.stroke_width_px - w), `width ${w}`).toBeLessThanOrEqual(0.2 * w);
    });
  });

  it("measures the outline, not a fill that is colourwise a blend of paper and ink", () => {
    for (const w of [1.5, 3, 5]) {
      const img = paint(64, 64, () => [235, 235, 235], [
        { color: [74, 74, 74], inside: (x, y) => Math.hypot(x - 30.3, y - 33.6) <= 18 },
        ring(30.3, 33.6, 18, w, [28, 28, 28]),
      ]);
      expect(Math.abs(measureStrokeWidth(img)!.stroke_width_px - w), `width ${w}`).toBeLessThanOrEqual(
        0.08 * w,
      );
    }
  });

  it("takes the lowest populated mode of the cross-sections", () => {
    const samples = [
      ...new Array<number>(30).fill(3),
      ...new Array<number>(10).fill(3.1),
      ...new Array<number>(50).fill(9),
      0.4,
    ];
    expect(lowestMode(samples)).toBeCloseTo(3.025, 2);
  });

  it("returns null on a blank page", () => {
    expect(measureStrokeWidth(paint(64, 64, () => [250, 250, 250], []))).toBeNull();
  });
});

import { describe, expect, it } from "vitest";
import { colourShift, gaussianBlur, gaussianNoise } from "../../src/eval/measurers/degrade.js";
import { measureHorizon } from "../../src/eval/measurers/horizon.js";
import type { RGBImage } from "../../src/eval/measurers/types.js";
import { paint, randomLandscape, ring } from "./synth.js";

const CASES = [64, 128].flatMap((size) =>
  [0.15, 0.32, 0.5, 0.63, 0.86].flatMap((h) => [0, 3.5, -2].map((tilt) => ({ size, h, tilt }))),
);

type Degrade = (img: RGBImage, i: number) => RGBImage;
const CONDITIONS: Array<[string, Degrade, number]> = [
  ["clean", (img) => img, 0.015],
  ["blur", (img) => gaussianBlur(img, img.width / 64), 0.03],
  ["noise", (img, i) => gaussianNoise(img, 10, i), 0.03],
  ["colour shift", (img) => colourShift(img, { hueDeg: 20, brightness: -0.15 }), 0.03],
];

describe("measureHorizon", () => {
  it.each(CONDITIONS)("recovers the horizon (%s) within target", (_name, degrade, tol) => {
    CASES.forEach(({ size, h, tilt }, i) => {
      const r = measureHorizon(degrade(randomLandscape(size, h, tilt, i + 1), i));
      expect(r, `size ${size} h ${h} tilt ${tilt}`).not.toBeNull();
      expect(Math.abs(r!.horizon - h), `size ${size} h ${h} tilt ${tilt}`).toBeLessThanOrEqual(tol);
      expect(Math.abs(r!.horizon_tilt_deg - tilt), `size ${size} h ${h} tilt ${tilt}`).toBeLessThan(1);
    });
  });

  it("reports tilt positive when the line descends to the right", () => {
    const r = measureHorizon(randomLandscape(96, 0.5, 4, 7));
    expect(r!.horizon_tilt_deg).toBeGreaterThan(3);
    expect(r!.confidence).toBeGreaterThan(0.5);
  });

  it("reads a line hugging the top or bottom border as no horizon, but keeps one just inside the range", () => {
    // the paint callback gets (x, y): a dark strip along the bottom 2 rows of an otherwise flat picture
    const strip = paint(64, 64, (_x, y) => (y >= 62 ? [30, 40, 30] : [150, 170, 200]), []);
    expect(measureHorizon(strip)).toBeNull();
    const low = measureHorizon(randomLandscape(64, 0.88, 0, 3));
    expect(low).not.toBeNull();
    expect(Math.abs(low!.horizon - 0.88)).toBeLessThan(0.03);
  });

  it("reads a thin line drawn across the sky as a line, not the horizon, at any size", () => {
    // a LoRA taught with the red-line prompt can learn to draw a dark line where the red one goes
    for (const size of [64, 128]) {
      for (const [i, thick] of [1, 2, 3].entries()) {
        const img = randomLandscape(size, 0.72, 0, 11 + i);
        const top = Math.round(0.3 * size);
        for (let y = top; y < top + (thick * size) / 64; y++) {
          img.data.fill(35, y * size * 3, (y + 1) * size * 3);
        }
        const r = measureHorizon(img);
        expect(r, `size ${size}, ${thick} px`).not.toBeNull();
        expect(Math.abs(r!.horizon - 0.72), `size ${size}, ${thick} px`).toBeLessThan(0.015);
      }
    }
  });

  it("finds no horizon in a blank image and a weak one in line art", () => {
    const blank = paint(64, 64, () => [240, 240, 235], []);
    expect(measureHorizon(blank)).toBeNull();
    const art = paint(64, 64, () => [240, 240, 235], [ring(32, 32, 15, 2, [20, 20, 20])]);
    const r = measureHorizon(art);
    expect(r === null || r.confidence < 0.5).toBe(true);
  });
});

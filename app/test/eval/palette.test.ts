import { describe, expect, it } from "vitest";
import { ciede2000, hexToLab } from "../../src/eval/measurers/colour.js";
import { gaussianNoise } from "../../src/eval/measurers/degrade.js";
import { measurePalette } from "../../src/eval/measurers/palette.js";
import { paletteDistance } from "../../src/eval/measurers/palette-distance.js";
import { mulberry32 } from "../../src/eval/measurers/random.js";
import type { Lab } from "../../src/eval/measurers/types.js";
import { bands, paint, ring, block, type RGB } from "./synth.js";

const FOUR: RGB[] = [
  [230, 57, 70],
  [241, 250, 238],
  [69, 123, 157],
  [29, 53, 87],
];
const labOf = (c: RGB): Lab => hexToLab("#" + c.map((v) => v.toString(16).padStart(2, "0")).join(""));

describe("measurePalette", () => {
  it("recovers a flat four-colour palette and its shares", () => {
    const shares = [0.4, 0.3, 0.2, 0.1];
    const got = measurePalette(bands(64, FOUR, shares));
    expect(got).toHaveLength(4);
    got.forEach((c, i) => {
      expect(ciede2000(c.lab, labOf(FOUR[i]!))).toBeLessThan(0.5);
      expect(Math.abs(c.weight - shares[i]!)).toBeLessThan(0.02);
    });
  });

  it("ignores antialiased blends and survives noise (distance to truth < 2)", () => {
    const img = paint(96, 96, () => FOUR[1]!, [
      block(5.3, 40.7, 8.2, 60.1, FOUR[0]!),
      ring(60, 50, 20, 9, FOUR[2]!),
      block(20.5, 90.2, 70.4, 92.6, FOUR[3]!),
    ]);
    for (const im of [img, gaussianNoise(img, 6, 3)]) {
      const got = measurePalette(im).map((c) => c.lab);
      expect(paletteDistance(got, FOUR.map(labOf))).toBeLessThan(2);
    }
  });

  it("leaves out the antialiased rim of a thin stroke but keeps a painted grey", () => {
    const paper: RGB = [245, 240, 230];
    const thin = paint(64, 64, () => paper, [ring(32.3, 31.7, 20, 1.3, [20, 20, 20])]);
    const got = measurePalette(thin);
    expect(got).toHaveLength(2);
    expect(ciede2000(got[0]!.lab, labOf(paper))).toBeLessThan(1);
    expect(ciede2000(got[1]!.lab, labOf([20, 20, 20]))).toBeLessThan(3);
    // Grey is colourwise a blend of the paper and the ink, but here it fills a disc of its own.
    const grey = paint(64, 64, () => paper, [
      { color: [110, 110, 110], inside: (x, y) => Math.hypot(x - 32, y - 32) <= 14 },
      ring(32, 32, 14, 2, [20, 20, 20]),
    ]);
    expect(measurePalette(grey)).toHaveLength(3);
  });

  it("is deterministic and honours an explicit k", () => {
    const img = bands(48, FOUR, [1, 1, 1, 1]);
    expect(measurePalette(img)).toEqual(measurePalette(img));
    expect(measurePalette(img, { k: 2 })).toHaveLength(2);
  });
});

describe("paletteDistance", () => {
  const rnd = mulberry32(9);
  const randomPalette = (n: number): Lab[] =>
    Array.from({ length: n }, () => [20 + 70 * rnd(), -60 + 120 * rnd(), -60 + 120 * rnd()] as Lab);

  it("is 0 for identical palettes, in any order", () => {
    const p = randomPalette(5);
    expect(paletteDistance(p, p)).toBe(0);
    expect(paletteDistance(p, [...p].reverse())).toBe(0);
  });

  it("is symmetric, also for palettes of different sizes", () => {
    for (let t = 0; t < 20; t++) {
      const a = randomPalette(3 + (t % 4));
      const b = randomPalette(4 + ((t * 7) % 3));
      expect(paletteDistance(a, b)).toBeCloseTo(paletteDistance(b, a), 12);
    }
  });

  it("is the mean matched CIEDE2000, and charges an extra colour its nearest distance", () => {
    const a: Lab[] = [
      [50, 0, 0],
      [70, 20, 20],
    ];
    const b: Lab[] = [
      [70, 20, 21],
      [51, 0, 0],
    ];
    const want = (ciede2000(a[0]!, b[1]!) + ciede2000(a[1]!, b[0]!)) / 2;
    expect(paletteDistance(a, b)).toBeCloseTo(want, 12);
    const c: Lab[] = [...b, [52, 0, 0]];
    const extra = ciede2000([52, 0, 0], a[0]!);
    expect(paletteDistance(a, c)).toBeCloseTo((2 * want + extra) / 3, 12);
  });
});

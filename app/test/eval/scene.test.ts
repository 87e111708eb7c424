import { describe, expect, it } from "vitest";
import { colourShift, gaussianBlur, gaussianNoise } from "../../src/eval/measurers/degrade.js";
import { guessKind, measure } from "../../src/eval/measurers/index.js";
import { measureLandscapeObjects } from "../../src/eval/measurers/objects.js";
import { measureSky } from "../../src/eval/measurers/sky.js";
import { block, landscape, lineArt, randomLandscape, triangle, type RGB } from "./synth.js";

const GRASS: [RGB, RGB] = [
  [70, 140, 60],
  [40, 100, 30],
];
const SKIES: Record<string, [RGB, RGB]> = {
  day: [
    [60, 120, 215],
    [165, 200, 240],
  ],
  sunset: [
    [90, 70, 150],
    [250, 140, 60],
  ],
  night: [
    [10, 12, 35],
    [30, 35, 70],
  ],
  overcast: [
    [150, 152, 158],
    [195, 196, 198],
  ],
};

function skyScene(kind: string, h = 0.55, stars = false) {
  const [top, bottom] = SKIES[kind]!;
  const starShapes = stars
    ? [
        [8, 6],
        [20, 12],
        [40, 4],
        [55, 15],
        [30, 20],
      ].map(([x, y]) => block(x!, x! + 1, y!, y! + 1, [240, 240, 220]))
    : [];
  return landscape({
    size: 64,
    horizon: h,
    skyTop: top,
    skyBottom: bottom,
    groundFar: GRASS[0],
    groundNear: GRASS[1],
    shapes: starShapes,
  });
}

describe("measureSky", () => {
  it.each(Object.keys(SKIES))("classifies a %s sky, also under noise", (kind) => {
    const img = skyScene(kind, 0.55, kind === "night");
    for (const im of [img, gaussianNoise(img, 8, 1), gaussianBlur(img, 1)]) {
      const r = measureSky(im, { horizon: 0.55, horizon_tilt_deg: 0 });
      expect(r?.sky).toBe(kind);
      expect(r!.confidence).toBeGreaterThanOrEqual(0.5);
    }
  });

  it("returns null when almost no sky is visible", () => {
    expect(measureSky(skyScene("day", 0.02), { horizon: 0.02, horizon_tilt_deg: 0 })).toBeNull();
  });
});

describe("measureLandscapeObjects", () => {
  const h = 0.6;
  const scene = landscape({
    size: 64,
    horizon: h,
    skyTop: SKIES.day![0],
    skyBottom: SKIES.day![1],
    groundFar: GRASS[0],
    groundNear: GRASS[1],
    shapes: [
      block(8.2, 18.6, 26.3, 38.4, [150, 60, 40]),
      triangle(44, 10, 24, 38.4, [110, 110, 130]),
      block(28, 34, 48, 58, [200, 180, 60]),
    ],
  });
  const truth = [
    [8.2, 26.3, 18.6, 38.4],
    [34, 24, 54, 38.4],
    [28, 48, 34, 58],
  ].map((b) => b.map((v) => v / 64));
  const iou = (a: number[], b: number[]): number => {
    const ix = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
    const iy = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
    const u = (a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - ix * iy;
    return (ix * iy) / u;
  };

  it.each([
    ["clean", scene],
    ["noise", gaussianNoise(scene, 8, 2)],
    ["shift", colourShift(scene, { hueDeg: 15, brightness: 0.1 })],
  ])("finds the house, the mountain and a near object as boxes (%s)", (_name, img) => {
    const objs = measureLandscapeObjects(img, { horizon: h, horizon_tilt_deg: 0 });
    // Split by colour, an object may come out in more than one part; each truth box is found.
    expect(objs.length).toBeGreaterThanOrEqual(3);
    expect(objs.length).toBeLessThanOrEqual(5);
    for (const t of truth) expect(Math.max(...objs.map((o) => iou(o.box, t)))).toBeGreaterThan(0.7);
    const onHorizon = objs.filter((o) => o.on_horizon).length;
    expect(onHorizon).toBeGreaterThanOrEqual(2);
  });
});

describe("measure", () => {
  it("guesses line art and landscape, also degraded", () => {
    for (let i = 0; i < 6; i++) {
      const art = lineArt(64, 1 + i, i);
      const land = randomLandscape(64, 0.3 + 0.1 * i, 0, i);
      for (const d of [
        (x: typeof art) => x,
        (x: typeof art) => gaussianNoise(x, 8, i),
        (x: typeof art) => gaussianBlur(x, 1),
      ]) {
        expect(guessKind(d(art)).kind).toBe("lineart");
        expect(guessKind(d(land)).kind).toBe("landscape");
      }
    }
  });

  it("fills the fields that apply and nulls the rest", () => {
    const land = measure(randomLandscape(64, 0.4, 2, 3));
    expect(land.kind).toBe("landscape");
    expect(land.horizon).toBeCloseTo(0.4, 1);
    expect(land.stroke_width_px).toBeNull();
    expect(land.palette.length).toBeGreaterThan(1);
    const art = measure(lineArt(64, 3, 1), { kind: "lineart" });
    expect(art.kind_guessed).toBe(false);
    expect(art.horizon).toBeNull();
    expect(art.sky).toBeNull();
    expect(art.stroke_width_px).toBeCloseTo(3, 0);
    // The filled disc and the filled rectangle; a bare stroke encloses nothing and is not a shape.
    expect(art.objects.length).toBe(2);
  });
});

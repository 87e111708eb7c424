import { describe, expect, it } from "vitest";
import { PNG } from "pngjs";
import { measure } from "../../src/eval/measurers/index.js";
import { controlSheet } from "../../src/report/measured-sheet.js";
import { objectsScene } from "../eval/synth.js";

const { image: scene, points } = objectsScene();
const { HOUSE, CANOPY } = points;
const m = measure(scene);
/** RGB of the sheet's pixel (x, y). */
const at = (png: PNG, x: number, y: number) => [
  ...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3),
];

describe("controlSheet", () => {
  const images = [
    { prompt_index: 0, seed: 1, lora_scale: 0 },
    { prompt_index: 0, seed: 1, lora_scale: 1 },
  ];
  const inputs = { images, measurements: [m, m], pixels: [scene, scene], taughtScale: 1 };
  const depth = (a: readonly [number, number], b: readonly [number, number]) => ({
    ...inputs,
    questions: [
      { question: "Is point A closer to the viewer than point B?", visual_prompt: { kind: "points", a, b } },
    ],
    readings: [{ family: "relative_depth", variant: "closer" }],
  });

  it("draws a depth control's images framed green where A is the nearer, grey where not, with A in red", () => {
    // the sheet: 4 px gap, 3 px frame, images at 2x (128 px), a row without and a row with the LoRA
    const nearer = PNG.sync.read(controlSheet(depth(HOUSE, CANOPY))!);
    expect([nearer.width, nearer.height]).toEqual([4 + 134 + 4, 2 * (134 + 4) + 4]);
    expect(at(nearer, 5, 5)).toEqual([40, 170, 60]); // the first tile's frame: passes
    expect(at(nearer, 7 + Math.round(HOUSE[0] * 128), 7 + Math.round(HOUSE[1] * 128))).toEqual([230, 30, 30]);
    const farther = PNG.sync.read(controlSheet(depth(CANOPY, HOUSE))!);
    expect(at(farther, 5, 5)).toEqual([150, 150, 150]); // fails
  });

  it("is none for a recipe without a depth or layout control", () => {
    const horizon = {
      ...inputs,
      questions: [
        { question: "Is the red line on the horizon?", visual_prompt: { kind: "horizon", y: 0.3 } },
      ],
      readings: [null],
    };
    expect(controlSheet(horizon)).toBeNull();
    expect(controlSheet({ ...depth(HOUSE, CANOPY), readings: [null] })).toBeNull(); // words of no Scenes phrasing
  });
});

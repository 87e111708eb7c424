import { describe, expect, it } from "vitest";
import { controlsOf } from "../../src/eval/controls.js";
import { measure } from "../../src/eval/measurers/index.js";
import { boxCoverage, LAYOUT_COVERAGE, type Box } from "../../src/eval/measurers/layout.js";
import { measurement } from "./fake-measurement.js";
import { objectsScene } from "./synth.js";

const { image: scene } = objectsScene();
const px = (x0: number, y0: number, x1: number, y1: number): Box => [x0 / 64, y0 / 64, x1 / 64, y1 / 64];
const ON_HOUSE = px(6, 46, 16, 58); // the near house's own box
const ON_TREE = px(27, 27, 35, 38); // canopy and trunk
const ON_GRASS = px(18, 50, 28, 60); // empty ground
const IN_SKY = px(4, 4, 20, 16);

describe("boxCoverage", () => {
  it("a box on an object is covered, one on empty ground or sky is not", () => {
    const m = measure(scene);
    const [house, tree, grass, sky] = boxCoverage(scene, m, [ON_HOUSE, ON_TREE, ON_GRASS, IN_SKY])!;
    expect(house).toBeGreaterThan(0.9);
    expect(tree).toBeGreaterThan(LAYOUT_COVERAGE);
    expect(grass).toBeLessThan(0.05);
    expect(sky).toBeLessThan(0.05);
  });

  it("reads nothing without a horizon", () => {
    expect(boxCoverage(scene, measurement({ horizon: null }), [ON_HOUSE])).toBeNull();
  });
});

describe("the layout control", () => {
  const layout = (...boxes: Box[]) =>
    controlsOf([
      {
        question: "Does the image follow the layout drawn on it?",
        visual_prompt: { kind: "layout", boxes: boxes.map((box, i) => ({ box, label: `thing ${i}` })) },
      },
    ])[0]!;

  it("passes where every box has something in it, whatever its label; one empty box fails it", () => {
    const m = measure(scene);
    const fits = layout(ON_HOUSE, ON_TREE);
    expect(fits.attribute).toBe("layout");
    expect(fits.label).toBe("an object in each of the 2 boxes (30% covered; kinds not read)");
    expect(fits.passes(m, scene)).toBe(true);
    expect(layout(ON_HOUSE, ON_GRASS).passes(m, scene)).toBe(false);
    expect(fits.passes(measurement({ horizon: null }), scene)).toBeNull();
  });
});

/** Which counterfactual renders stand for a recipe's controls (the drift floor). */
import { describe, expect, it } from "vitest";
import { floorScenes } from "../../src/eval/drift-floor.js";

describe("floorScenes", () => {
  it("fixes each measurable control's attribute and picks the scene kind it needs", () => {
    const horizon = floorScenes([{ visual_prompt: { kind: "horizon", y: 0.3 } }, { visual_prompt: null }]);
    expect(horizon).toEqual({ kind: "landscape", fixed: { horizon: 0.3 }, controlled: new Set(["horizon"]) });
    const stroke = floorScenes([{ visual_prompt: { kind: "stroke", width_px: 2, curve: 0 } }]);
    expect(stroke).toEqual({
      kind: "lineart",
      fixed: { stroke_width_px: 2 },
      controlled: new Set(["stroke"]),
    });
  });

  it("leaves out what the Scenes world cannot render: a second kind, a palette not of 4-6 colours", () => {
    const both = floorScenes([
      { visual_prompt: { kind: "horizon", y: 0.7 } },
      { visual_prompt: { kind: "stroke", width_px: 2, curve: 0 } },
    ]);
    expect(both!.fixed).toEqual({ horizon: 0.7 });
    const three = ["#112233", "#445566", "#778899"];
    expect(floorScenes([{ visual_prompt: { kind: "palette", colors: three } }])).toBeNull();
    const five = [...three, "#aabbcc", "#ddeeff"];
    expect(floorScenes([{ visual_prompt: { kind: "palette", colors: five } }])!.fixed).toEqual({
      palette: five,
    });
  });

  it("has nothing to render for questions no measurer checks", () => {
    expect(floorScenes([{ visual_prompt: { kind: "points", points: [[0.1, 0.2]] } }, {}])).toBeNull();
  });
});

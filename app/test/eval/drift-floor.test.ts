/** Which counterfactual renders stand for a recipe's controls (the drift floor). */
import { describe, expect, it } from "vitest";
import { DEPTH_FLOOR_MARGIN, depthTwinHorizon, floorScenes } from "../../src/eval/drift-floor.js";

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

  it("renders the twin of a wanted Yes only: a contrast asked No sets nothing, whatever the order", () => {
    const stroke = (width_px: number) => ({ kind: "stroke", width_px, curve: 0 });
    const floor = floorScenes([
      { answer: "No", visual_prompt: stroke(1) },
      { visual_prompt: stroke(2) },
      { answer: "No", visual_prompt: stroke(3) },
    ]);
    expect(floor!.fixed).toEqual({ stroke_width_px: 2 });
    expect(floorScenes([{ answer: "No", visual_prompt: { kind: "horizon", y: 0.5 } }])).toBeNull();
  });

  it("has nothing to render for a layout, nor for points whose relation is unknown", () => {
    expect(floorScenes([{ visual_prompt: { kind: "points", points: [[0.1, 0.2]] } }, {}])).toBeNull();
    const layout = { kind: "layout", boxes: [{ box: [0.1, 0.1, 0.4, 0.4], label: "tree" }] };
    expect(floorScenes([{ visual_prompt: layout }], [{ family: "layout_match", variant: null }])).toBeNull();
    const points = { kind: "points", a: [0.3, 0.8], b: [0.7, 0.55] };
    expect(floorScenes([{ visual_prompt: points }], [null])).toBeNull();
  });

  it("renders two points' twin with the horizons that hide the nearer point lowered below it", () => {
    const points = { kind: "points", a: [0.3, 0.8], b: [0.7, 0.55] };
    const closer = { family: "relative_depth", variant: "closer" };
    const floor = floorScenes([{ visual_prompt: points }], [closer])!;
    expect([floor.kind, [...floor.controlled]]).toEqual(["landscape", ["depth"]]);
    expect(floor.fixed.horizon_max).toBeCloseTo(0.8 - DEPTH_FLOOR_MARGIN, 6);
    // "is B farther than A" wants the same; "is A farther" wants the higher point nearer: no horizon does it
    const swapped = { ...points, a: points.b, b: points.a };
    const farther = { family: "relative_depth", variant: "farther" };
    expect(floorScenes([{ visual_prompt: swapped }], [farther])!.fixed).toEqual(floor.fixed);
    expect(floorScenes([{ visual_prompt: points }], [farther])).toBeNull();
    expect(depthTwinHorizon([0.5, 0.15], [0.5, 0.1], "closer")).toBeNull(); // no horizon that high is drawn
    expect(floorScenes([{ answer: "No", visual_prompt: points }], [closer])).toBeNull(); // no one twin
  });

  it("renders a plain question's twin by its Scenes reading: the sky kind, or the middle of a horizon band", () => {
    const night = { family: "time_of_day", variant: "night" };
    const sky = floorScenes([{ answer: "Yes" }], [night])!;
    expect([sky.kind, sky.fixed, [...sky.controlled]]).toEqual(["landscape", { sky: "night" }, ["sky"]]);
    const band = floorScenes([{}], [{ family: "horizon_band", variant: "low" }])!;
    expect(band.fixed).toEqual({ horizon: 5 / 6 });
    // a visual prompt's horizon outranks a band, whatever the order; "not night" has no one twin
    const both = floorScenes(
      [{}, { visual_prompt: { kind: "horizon", y: 0.3 } }],
      [{ family: "horizon_band", variant: "high" }, null],
    )!;
    expect(both.fixed).toEqual({ horizon: 0.3 });
    expect(floorScenes([{ answer: "No" }], [night])).toBeNull();
    expect(floorScenes([{}], [null])).toBeNull();
    // line art has no sky: a stroke floor keeps its kind
    const stroke = floorScenes([{ visual_prompt: { kind: "stroke", width_px: 2 } }, {}], [null, night])!;
    expect([stroke.kind, stroke.fixed]).toEqual(["lineart", { stroke_width_px: 2 }]);
  });
});

import { describe, expect, it } from "vitest";
import { colourShares, coloursUsed, controlsOf, paletteAdherence } from "../../src/eval/controls.js";
import { hexToLab } from "../../src/eval/measurers/colour.js";
import { measure } from "../../src/eval/measurers/index.js";
import { image, measurement } from "./fake-measurement.js";
import { objectsScene } from "./synth.js";

describe("controls from a recipe's visual prompts", () => {
  const controls = controlsOf([
    { question: "Is the red line on the horizon?", visual_prompt: { kind: "horizon", y: 0.3 } },
    { question: "Is it sunny?" },
    { question: "Same width?", visual_prompt: { kind: "stroke", width_px: 2 } },
    { question: "Palette?", visual_prompt: { kind: "palette", colors: ["#336699", "#ffffff"] } },
    { question: "Is A nearer?", visual_prompt: { kind: "points", a: [0.1, 0.1], b: [0.5, 0.5] } },
  ]);

  it("one per measurable target, naming the question it came from", () => {
    expect(controls.map((c) => [c.attribute, c.question])).toEqual([
      ["horizon", 0],
      ["stroke", 2],
      ["palette", 3],
    ]);
  });

  it("phrasings of one target are one control; different targets (asked of different prompts) are two", () => {
    const horizon = (y: number) => ({ kind: "horizon", y });
    const found = controlsOf([
      { question: "Is the red line on the horizon?", visual_prompt: horizon(0.3) },
      { question: "Does the red line follow the horizon?", visual_prompt: horizon(0.3) },
      { question: "Is the red line on the horizon?", visual_prompt: horizon(0.7) },
    ]);
    expect(found.map((c) => [c.question, c.label])).toEqual([
      [0, "horizon at 30% of the height (+-0.03)"],
      [2, "horizon at 70% of the height (+-0.03)"],
    ]);
  });

  it("horizon: within 0.03 of the height passes; no horizon found is unmeasured", () => {
    const horizon = controls[0]!;
    expect(horizon.passes(measurement({ horizon: 0.32 }), image(64))).toBe(true);
    expect(horizon.passes(measurement({ horizon: 0.34 }), image(64))).toBe(false);
    expect(horizon.passes(measurement({ horizon: null }), image(64))).toBeNull();
  });

  it("stroke: widths are compared at 64 px, so a 4 px stroke at 128 px is a 2 px one", () => {
    const stroke = controls[1]!;
    expect(stroke.passes(measurement({ stroke_width_px: 4 }), image(128))).toBe(true);
    expect(stroke.passes(measurement({ stroke_width_px: 4 }), image(64))).toBe(false);
  });

  it("palette: an image painted only in given colours adheres (distance 0), another does not", () => {
    const palette = controls[2]!;
    const both = measurement({
      palette: [
        { hex: "#336699", lab: hexToLab("#336699"), weight: 0.7 },
        { hex: "#ffffff", lab: hexToLab("#ffffff"), weight: 0.3 },
      ],
    });
    expect(paletteAdherence(both, ["#336699", "#ffffff"])).toBeCloseTo(0, 6);
    expect(palette.passes(both, image(64))).toBe(true);
    const red = measurement({ palette: [{ hex: "#ff0000", lab: hexToLab("#ff0000"), weight: 1 }] });
    expect(palette.passes(red, image(64))).toBe(false);
  });

  it("palette: a wash of one given colour adheres but does not use the palette", () => {
    const palette = controls[2]!;
    const wash = measurement(); // all #336699
    expect(paletteAdherence(wash, ["#336699", "#ffffff"])).toBeCloseTo(0, 6);
    expect(coloursUsed(wash, ["#336699", "#ffffff"])).toBe(1);
    expect(palette.passes(wash, image(64))).toBe(false);
    const speck = measurement({
      palette: [
        { hex: "#336699", lab: hexToLab("#336699"), weight: 0.97 },
        { hex: "#ffffff", lab: hexToLab("#ffffff"), weight: 0.03 },
      ],
    });
    expect(coloursUsed(speck, ["#336699", "#ffffff"])).toBe(1); // 3% is under the 5% share
    expect(palette.passes(speck, image(64))).toBe(false);
  });

  it("palette: its two rules are checks of their own, so a failure says which rule failed", () => {
    const palette = controls[2]!;
    expect(palette.checks.map((c) => c.label)).toEqual([
      "adherence <= 10 CIEDE2000",
      "2+ of its colours on 5% each",
    ]);
    const wash = measurement(); // all #336699: adheres, one colour
    expect(palette.checks.map((c) => c.passes(wash, image(64)))).toEqual([true, false]);
    const red = measurement({
      palette: [
        { hex: "#ff0000", lab: hexToLab("#ff0000"), weight: 0.5 },
        { hex: "#336699", lab: hexToLab("#336699"), weight: 0.25 },
        { hex: "#ffffff", lab: hexToLab("#ffffff"), weight: 0.25 },
      ],
    });
    expect(palette.checks.map((c) => c.passes(red, image(64)))).toEqual([false, true]);
    expect(palette.passes(red, image(64))).toBe(false);
    expect(palette.checks.map((c) => c.passes(measurement({ palette: [] }), image(64)))).toEqual([
      null,
      null,
    ]);
    expect(palette.passes(measurement({ palette: [] }), image(64))).toBeNull();
    expect(controls[0]!.checks).toEqual([]); // a horizon is one rule
  });

  it("palette: reports its colours one by one, which the image uses and which it leaves out", () => {
    const palette = controls[2]!;
    expect(palette.details.map((c) => c.label)).toEqual(["#336699 on 5%", "#ffffff on 5%"]);
    const mostlyBlue = measurement({
      palette: [
        { hex: "#336699", lab: hexToLab("#336699"), weight: 0.96 },
        { hex: "#ffffff", lab: hexToLab("#ffffff"), weight: 0.04 },
      ],
    });
    expect(palette.details.map((c) => c.passes(mostlyBlue, image(64)))).toEqual([true, false]); // 4% < 5%
    // two dominant colours near one given colour add up to its share; a colour near none counts for none
    const shares = colourShares(
      measurement({
        palette: [
          { hex: "#346799", lab: hexToLab("#346799"), weight: 0.3 },
          { hex: "#336699", lab: hexToLab("#336699"), weight: 0.3 },
          { hex: "#ff0000", lab: hexToLab("#ff0000"), weight: 0.4 },
        ],
      }),
      ["#336699", "#ffffff"],
    );
    expect(shares[0]).toBeCloseTo(0.6, 9);
    expect(shares[1]).toBe(0);
    expect(palette.details.map((c) => c.passes(measurement({ palette: [] }), image(64)))).toEqual([
      null,
      null,
    ]);
    expect(controls[0]!.details).toEqual([]);
  });

  it("a visual prompt with a wanted No is the control of its opposite, another target than its Yes", () => {
    const stroke = (width_px: number) => ({ kind: "stroke", width_px });
    const found = controlsOf([
      { question: "As thick?", visual_prompt: stroke(2) },
      { question: "As thick?", answer: "No", visual_prompt: stroke(1) },
      { question: "As thick?", answer: "no", visual_prompt: stroke(2) },
      { question: "As thick?", answer: "Maybe", visual_prompt: stroke(3) },
    ]);
    expect(found.map((c) => [c.question, c.wanted, c.label])).toEqual([
      [0, true, "stroke width 2 px at 64 px (+-0.5)"],
      [1, false, "not stroke width 1 px at 64 px (+-0.5)"],
      [2, false, "not stroke width 2 px at 64 px (+-0.5)"],
    ]);
    const [two, notOne] = found;
    const width = (px: number) => measurement({ stroke_width_px: px });
    expect([two!.passes(width(1), image(64)), notOne!.passes(width(1), image(64))]).toEqual([false, false]);
    expect([two!.passes(width(2), image(64)), notOne!.passes(width(2), image(64))]).toEqual([true, true]);
    expect(notOne!.passes(width(4), image(64))).toBe(true);
    expect(notOne!.passes(measurement({ stroke_width_px: null }), image(64))).toBeNull();
  });

  it("a palette wanted No passes where the palette control fails, with no rules or colours of its own", () => {
    const colors = ["#336699", "#ffffff"];
    const [notPalette] = controlsOf([{ answer: "No", visual_prompt: { kind: "palette", colors } }]);
    const red = measurement({ palette: [{ hex: "#ff0000", lab: hexToLab("#ff0000"), weight: 1 }] });
    expect(notPalette!.passes(red, image(64))).toBe(true);
    expect([notPalette!.checks, notPalette!.details]).toEqual([[], []]);
  });

  it("palette: a one-colour palette needs only that colour", () => {
    const [single] = controlsOf([{ visual_prompt: { kind: "palette", colors: ["#336699"] } }]);
    expect(single!.passes(measurement(), image(64))).toBe(true);
  });
});

describe("controls from plain questions the measurers answer (their Scenes reading)", () => {
  const night = { family: "time_of_day", variant: "night" };
  it("a sky kind, a time of day or a horizon band becomes a control; other questions do not", () => {
    const found = controlsOf(
      [
        { question: "Is it night-time?" },
        { question: "Is the sky overcast?", answer: "No" },
        { question: "Is the horizon low in the image?" },
        { question: "Is the red line on the horizon?" }, // a horizon line with no line drawn: nothing to measure
        { question: "Is it a cat?" },
        { question: "Is it night?", answer: "Maybe" },
      ],
      [
        night,
        { family: "sky", variant: "overcast" },
        { family: "horizon_band", variant: "low" },
        { family: "horizon_line", variant: null },
        null,
        night,
      ],
    );
    expect(found.map((c) => [c.attribute, c.question, c.label])).toEqual([
      ["sky", 0, "time of day night (sky kind night)"],
      ["sky", 1, "sky kind not overcast"],
      ["horizon", 2, "horizon in the lower third of the height"],
    ]);
    const [isNight, notOvercast, low] = found;
    expect(isNight!.passes(measurement({ sky: "night" }), image(64))).toBe(true);
    expect(isNight!.passes(measurement({ sky: "sunset" }), image(64))).toBe(false);
    expect(isNight!.passes(measurement({ sky: null }), image(64))).toBeNull();
    expect(notOvercast!.passes(measurement({ sky: "overcast" }), image(64))).toBe(false);
    expect(notOvercast!.passes(measurement({ sky: "day" }), image(64))).toBe(true);
    expect(low!.passes(measurement({ horizon: 0.8 }), image(64))).toBe(true);
    expect(low!.passes(measurement({ horizon: 0.5 }), image(64))).toBe(false);
  });

  it("a daytime question passes on a clear or an overcast sky; phrasings of one reading are one control", () => {
    const day = { family: "time_of_day", variant: "day" };
    const found = controlsOf(
      [{ question: "Is it daytime?" }, { question: "Is this a daytime scene?" }],
      [day, day],
    );
    expect(found).toHaveLength(1);
    expect(
      ["day", "overcast", "sunset", "night"].map((sky) =>
        found[0]!.passes(measurement({ sky: sky as "day" }), image(64)),
      ),
    ).toEqual([true, true, false, false]);
  });

  it("without readings (another generator's world) a plain question is no control", () => {
    expect(controlsOf([{ question: "Is it night-time?" }])).toEqual([]);
  });
});

describe("controls from two points", () => {
  const { image: scene, points } = objectsScene();
  const { HOUSE, CANOPY } = points;
  const ask = (question: string, answer = "Yes") => ({
    question,
    answer,
    visual_prompt: { kind: "points", a: HOUSE, b: CANOPY },
  });
  const relation = (variant: string) => ({ family: "relative_depth", variant });

  it("a Scenes relative-depth wording is measured by ground-plane depth, 'closer' or 'farther' as it says", () => {
    const [closer, farther, notCloser] = [
      controlsOf([ask("Is point A closer to the viewer than point B?")], [relation("closer")]),
      controlsOf([ask("Is point A farther from the viewer than point B?")], [relation("farther")]),
      controlsOf([ask("Is point A closer to the viewer than point B?", "No")], [relation("closer")]),
    ].map((found) => found[0]!);
    expect(closer!.attribute).toBe("depth");
    expect(closer!.label).toBe("point A nearer than point B (ground-plane depth)");
    const m = measure(scene);
    expect(closer!.passes(m, scene)).toBe(true); // the near house at A, the far tree at B
    expect(farther!.passes(m, scene)).toBe(false);
    expect(notCloser!.passes(m, scene)).toBe(false);
    expect(closer!.passes(measurement({ horizon: null }), scene)).toBeNull();
  });

  it("a wording of the user's own says neither 'closer' nor 'farther': no control", () => {
    expect(controlsOf([ask("Is A in front of B?")], [null])).toEqual([]);
    expect(controlsOf([ask("Is A in front of B?")])).toEqual([]);
  });
});

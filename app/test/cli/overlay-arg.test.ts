import { describe, expect, it } from "vitest";
import { parseOverlayArg } from "../../src/cli/overlay-arg.js";

describe("--overlay short forms", () => {
  it("parses each short form into the protocol's spec", () => {
    expect(parseOverlayArg("horizon:0.35")).toEqual({ kind: "horizon", y: 0.35 });
    expect(parseOverlayArg("palette:#aabbcc,#112233")).toEqual({
      kind: "palette",
      colors: ["#aabbcc", "#112233"],
    });
    expect(parseOverlayArg("stroke:3")).toEqual({ kind: "stroke", width_px: 3 });
    expect(parseOverlayArg("points:0.2,0.7,0.8,0.6")).toEqual({
      kind: "points",
      a: [0.2, 0.7],
      b: [0.8, 0.6],
    });
    expect(parseOverlayArg('{"kind":"horizon","y":0.5,"mode":"blend"}')).toEqual({
      kind: "horizon",
      y: 0.5,
      mode: "blend",
    });
  });

  it("rejects bad forms with a message naming what is wrong", () => {
    expect(() => parseOverlayArg("horizon:abc")).toThrow(/^y: /);
    expect(() => parseOverlayArg("horizon:1.4")).toThrow(/y: Too big/);
    expect(() => parseOverlayArg("palette:#12345")).toThrow(/colors\.0: expected a colour like #aabbcc/);
    expect(() => parseOverlayArg("points:0.1,0.2")).toThrow(/four numbers/);
    expect(() => parseOverlayArg("sun:1")).toThrow(/unknown visual prompt 'sun'; expected/);
    expect(() => parseOverlayArg("horzon:0.3")).toThrow(
      /unknown visual prompt 'horzon', did you mean 'horizon'\?; expected/,
    );
    expect(() => parseOverlayArg("{oops")).toThrow(/does not parse/);
  });
});

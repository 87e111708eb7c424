import { describe, expect, it } from "vitest";
import { isNearer, measureDepths, type Point } from "../../src/eval/measurers/depth.js";
import { measure } from "../../src/eval/measurers/index.js";
import { objectsScene } from "./synth.js";

const { image: scene, horizon: H, points } = objectsScene();
const { HOUSE, CANOPY, MOUNTAIN, SKY_POINT, FAR_HOUSE, PERSON } = points;
const line = { horizon: H, horizon_tilt_deg: 0 };
const at = (x: number, y: number): Point => [x / 64, y / 64];

describe("measureDepths: ground-plane depth of what is seen at a point", () => {
  const [house, canopy, mountain, sky, farHouse, person, groundNear, groundFar] = measureDepths(scene, line, [
    HOUSE,
    CANOPY,
    MOUNTAIN,
    SKY_POINT,
    FAR_HOUSE,
    PERSON,
    at(30, 62),
    at(30, 36),
  ]);

  it("an object is as far as the row it stands on, reached through its other parts (a canopy's trunk)", () => {
    // the contract's distance (1 - horizon) / (base - horizon): bases 58/64 and 38/64
    expect(house).toBeCloseTo((1 - H) / (58 / 64 - H), 1);
    expect(canopy).toBeCloseTo((1 - H) / (38 / 64 - H), 0);
  });

  it("the ground is as far as its own row; the sky and a mountain behind the horizon are infinitely far", () => {
    expect(groundNear).toBeLessThan(groundFar!);
    expect(sky).toBe(Infinity);
    expect(mountain).toBeGreaterThan(50);
  });

  it("orders points as the world does", () => {
    expect(isNearer(HOUSE, house!, CANOPY, canopy!)).toBe(true);
    expect(isNearer(CANOPY, canopy!, HOUSE, house!)).toBe(false);
    expect(isNearer(CANOPY, canopy!, MOUNTAIN, mountain!)).toBe(true);
    expect(isNearer(SKY_POINT, sky!, MOUNTAIN, mountain!)).toBe(false); // the sky is nearer than nothing
    expect(isNearer(SKY_POINT, sky!, SKY_POINT, sky!)).toBe(false);
  });

  it("a hidden base: the object showing above the one in front is the farther", () => {
    // walking down from the far house passes through the person: both reach row 49, a tie the height breaks
    expect(farHouse).toBeCloseTo(person!, 6);
    expect(isNearer(PERSON, person!, FAR_HOUSE, farHouse!)).toBe(true);
    expect(isNearer(FAR_HOUSE, farHouse!, PERSON, person!)).toBe(false);
  });

  it("reads the image's own horizon through measure()", () => {
    const m = measure(scene);
    expect(m.horizon).toBeCloseTo(H, 2);
    const [h, c] = measureDepths(scene, { horizon: m.horizon!, horizon_tilt_deg: m.horizon_tilt_deg! }, [
      HOUSE,
      CANOPY,
    ]);
    expect(isNearer(HOUSE, h!, CANOPY, c!)).toBe(true);
  });
});

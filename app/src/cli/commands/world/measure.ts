import { InvalidArgumentError, type Command } from "commander";
import { comparePointPairs, type Point } from "../../../eval/measurers/depth.js";
import { measure, type Measurement } from "../../../eval/measurers/index.js";
import { boxCoverage, LAYOUT_COVERAGE, type Box } from "../../../eval/measurers/layout.js";
import type { RGBImage } from "../../../eval/measurers/types.js";
import { ImageReadError, readImage } from "../../../images/read.js";
import type { CliContext } from "../../context.js";
import { choice } from "../../options.js";
import { parseOverlayArg } from "../../overlay-arg.js";

const KINDS = ["landscape", "lineart"] as const;

interface MeasureOptions {
  kind?: (typeof KINDS)[number];
  points?: { a: Point; b: Point }[];
  box?: Box[];
}

/** `--points XA,YA,XB,YB`, repeatable, as `ask --overlay points:...` takes them. */
function pointsArg(text: string, pairs: { a: Point; b: Point }[] = []): { a: Point; b: Point }[] {
  const overlay = parseOverlayArg(`points:${text}`);
  if (overlay.kind !== "points") throw new Error("unreachable: a points overlay");
  return [...pairs, { a: overlay.a, b: overlay.b }];
}

/** `--box X0,Y0,X1,Y1`, repeatable: the boxes of a layout, as fractions of the side. */
function boxArg(text: string, boxes: Box[] = []): Box[] {
  const v = text.split(",").map((x) => (x.trim() === "" ? NaN : Number(x)));
  const fractions = v.length === 4 && v.every((x) => x >= 0 && x <= 1);
  if (!fractions || !(v[0]! < v[2]! && v[1]! < v[3]!))
    throw new InvalidArgumentError(
      "expected four fractions X0,Y0,X1,Y1 from 0 to 1, with X0 < X1 and Y0 < Y1",
    );
  return [...boxes, [v[0]!, v[1]!, v[2]!, v[3]!]];
}

export function measureCommand(context: CliContext): Command {
  return context
    .command("measure", "estimate horizon, palette, stroke width, sky and objects from images (no learning)")
    .argument("<images...>", "PNG or JPEG files")
    .option("--kind <kind>", "scene kind, if known: landscape, lineart (default: guessed)", choice(KINDS))
    .option(
      "--points <xa,ya,xb,yb>",
      "also the depth of what is seen at points A and B (fractions of the side), and which is nearer; " +
        "repeat for each pair",
      pointsArg,
    )
    .option(
      "--box <x0,y0,x1,y1>",
      "also how much of this box (fractions of the side) objects cover, as the evaluation measures a layout; " +
        "repeat for each box",
      boxArg,
    )
    .addHelpText(
      "after",
      "\nPrints one JSON object per image (fields as in docs/world-contract.md, plus confidences).\n" +
        "With --points, `depth` is a list of {a, b, a_nearer}, one per --points: ground-plane depths as the\n" +
        "evaluation measures relative depth (null where the point shows the sky or what stands behind the\n" +
        "horizon); `depth` is null without a horizon.\n" +
        `With --box, \`layout\` is {coverage, followed}: the share of each box objects cover, and whether every\n` +
        `box is covered to ${100 * LAYOUT_COVERAGE}% (what stands there is not read); null without a horizon.\n` +
        "The measurers share no code with the renderer: they are the independent check on generated images.",
    )
    .action((images: string[], options: MeasureOptions, self: Command) => {
      const console = context.consoleFor(self);
      let failures = 0;
      for (const file of images) {
        try {
          const image = readImage(file);
          const measured = measure(image, options.kind ? { kind: options.kind } : {});
          const depth = options.points ? { depth: depthOf(image, measured, options.points) } : {};
          const layout = options.box ? { layout: layoutOf(image, measured, options.box) } : {};
          console.result(JSON.stringify({ file, ...measured, ...depth, ...layout }));
        } catch (error) {
          if (!(error instanceof ImageReadError)) throw error;
          console.warn(error.message);
          failures += 1;
        }
      }
      if (failures > 0) process.exitCode = 1;
    });
}

/** Per pair, the depths at A and B (null: infinitely far) and whether A is nearer; null where no horizon was found. */
function depthOf(image: RGBImage, m: Measurement, pairs: { a: Point; b: Point }[]) {
  const finite = (d: number) => (Number.isFinite(d) ? d : null);
  const compared = comparePointPairs(image, m, pairs);
  return compared?.map((c) => ({ a: finite(c.depthA), b: finite(c.depthB), a_nearer: c.aNearer })) ?? null;
}

/** The share of each box objects cover, and whether all are covered enough; null where no horizon was found. */
function layoutOf(image: RGBImage, m: Measurement, boxes: Box[]) {
  const coverage = boxCoverage(image, m, boxes);
  return coverage && { coverage, followed: coverage.every((c) => c >= LAYOUT_COVERAGE) };
}

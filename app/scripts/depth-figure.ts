/**
 * A picture of what the depth measurer reads (docs/measurers.md), drawn as the evaluation report's sheet
 * (report/measured-sheet.ts): each image enlarged, with the measured horizon (yellow), point A (red) and point
 * B (blue), framed green where A is the nearer by ground-plane depth, grey where it is not, and left unframed
 * where no horizon was found. One row per folder.
 *
 *   npx tsx scripts/depth-figure.ts --points 0.3,0.8,0.7,0.55 --out FIG.png [--per-row 12] DIR [DIR ...]
 */
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { comparePoints, type Point } from "../src/eval/measurers/depth.js";
import { measure } from "../src/eval/measurers/index.js";
import { readImage } from "../src/images/read.js";
import { measuredSheet, type SheetTile } from "../src/report/measured-sheet.js";

/** One image as the sheet draws it: measured, and A's verdict at the points. */
function tileOf(file: string, a: Point, b: Point): SheetTile {
  const image = readImage(file);
  const m = measure(image);
  return { image, horizon: m.horizon, passes: comparePoints(image, m, a, b)?.aNearer ?? null };
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { points: { type: "string" }, out: { type: "string" }, "per-row": { type: "string" } },
  });
  const numbers = (values.points ?? "").split(",").map(Number);
  if (
    numbers.length !== 4 ||
    numbers.some((v) => !(v >= 0 && v <= 1)) ||
    !values.out ||
    !positionals.length
  ) {
    console.error(
      "Usage: tsx scripts/depth-figure.ts --points XA,YA,XB,YB --out FIG.png [--per-row N] DIR...",
    );
    process.exit(2);
  }
  const a: Point = [numbers[0]!, numbers[1]!];
  const b: Point = [numbers[2]!, numbers[3]!];
  const perRow = Number(values["per-row"] ?? 12);
  const rows = positionals.map((dir) =>
    readdirSync(dir)
      .filter((f) => f.endsWith(".png"))
      .sort()
      .slice(0, perRow)
      .map((f) => tileOf(join(dir, f), a, b)),
  );
  writeFileSync(values.out, measuredSheet(rows, { points: [a, b] }));
  const counts = rows.map((row) => `${row.filter((t) => t.passes).length}/${row.length}`);
  console.log(`wrote ${values.out}: A nearer in ${counts.join(", ")} (row by row)`);
}

main();

/**
 * A picture of what the depth measurer reads (docs/measurers.md): each image enlarged 3x, with the measured
 * horizon (yellow), point A (red) and point B (blue), framed green where A is the nearer by ground-plane
 * depth, grey where it is not, and left unframed where no horizon was found. One row per folder.
 *
 *   npx tsx scripts/depth-figure.ts --points 0.3,0.8,0.7,0.55 --out FIG.png [--per-row 12] DIR [DIR ...]
 */
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PNG } from "pngjs";
import { comparePoints, type Point } from "../src/eval/measurers/depth.js";
import { measure } from "../src/eval/measurers/index.js";
import type { RGBImage } from "../src/eval/measurers/types.js";
import { readImage } from "../src/images/read.js";

const SCALE = 3;
const FRAME = 3;
const GAP = 4;
type RGB = readonly [number, number, number];
const NEARER: RGB = [40, 170, 60];
const NOT_NEARER: RGB = [150, 150, 150];

/** One image as it will be drawn: its pixels, the measured horizon row (fraction) and A's verdict. */
interface Tile {
  image: RGBImage;
  horizon: number | null;
  aNearer: boolean | null;
}

function tileOf(file: string, a: Point, b: Point): Tile {
  const image = readImage(file);
  const m = measure(image);
  const compared = comparePoints(image, m, a, b);
  return { image, horizon: m.horizon, aNearer: compared?.aNearer ?? null };
}

function drawTile(png: PNG, tile: Tile, left: number, top: number, a: Point, b: Point): void {
  const { image } = tile;
  const side = image.width * SCALE;
  const put = (x: number, y: number, c: RGB) => {
    if (x < 0 || y < 0 || x >= png.width || y >= png.height) return;
    png.data.set([...c, 255], (y * png.width + x) * 4);
  };
  const frame = tile.aNearer === null ? null : tile.aNearer ? NEARER : NOT_NEARER;
  if (frame)
    for (let y = -FRAME; y < side + FRAME; y++)
      for (let x = -FRAME; x < side + FRAME; x++) put(left + x, top + y, frame);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      const i = (Math.floor(y / SCALE) * image.width + Math.floor(x / SCALE)) * 3;
      put(left + x, top + y, [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!]);
    }
  if (tile.horizon !== null) {
    const row = Math.round(tile.horizon * side);
    for (let x = 0; x < side; x++) put(left + x, top + row, [255, 230, 0]);
  }
  for (const [[px, py], colour] of [
    [a, [230, 30, 30]],
    [b, [40, 80, 240]],
  ] as const)
    for (let dy = -2; dy <= 2; dy++)
      for (let dx = -2; dx <= 2; dx++)
        put(left + Math.round(px * side) + dx, top + Math.round(py * side) + dy, colour);
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
  const side = (rows[0]?.[0]?.image.width ?? 64) * SCALE;
  const cell = side + 2 * FRAME + GAP;
  const png = new PNG({ width: perRow * cell + GAP, height: rows.length * cell + GAP });
  png.data.fill(255);
  rows.forEach((row, r) =>
    row.forEach((tile, c) => drawTile(png, tile, GAP + FRAME + c * cell, GAP + FRAME + r * cell, a, b)),
  );
  writeFileSync(values.out, PNG.sync.write(png));
  const counts = rows.map((row) => `${row.filter((t) => t.aNearer).length}/${row.length}`);
  console.log(`wrote ${values.out}: A nearer in ${counts.join(", ")} (row by row)`);
}

main();

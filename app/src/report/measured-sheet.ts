/**
 * What the measurers read, as a picture: each image enlarged, with the measured horizon (yellow), the
 * control's points (A red, B blue) or boxes (white), framed green where the control passes, grey where it
 * fails, and unframed where nothing could be measured. For the controls whose geometry a table cannot show
 * (which point is nearer, what stands in which box), so that a reader can check the measurer by eye.
 */
import { PNG } from "pngjs";
import { controlsOf, type SceneReading } from "../eval/controls.js";
import type { Point } from "../eval/measurers/depth.js";
import type { Measurement } from "../eval/measurers/index.js";
import type { Box } from "../eval/measurers/layout.js";
import type { RGBImage } from "../eval/measurers/types.js";
import type { QuestionLike } from "../eval/summary.js";
import type { Overlay } from "../protocol/overlay.js";

export interface SheetTile {
  image: RGBImage;
  /** Measured horizon, a fraction of the height from the top; null: none found. */
  horizon: number | null;
  /** The control's outcome on this image (null: unmeasured). */
  passes: boolean | null;
}

export interface SheetMarks {
  points?: readonly [Point, Point];
  boxes?: readonly Box[];
}

type RGB = readonly [number, number, number];
const SCALE = 2;
const FRAME = 3;
const GAP = 4;
const PASS: RGB = [40, 170, 60];
const FAIL: RGB = [150, 150, 150];
const HORIZON: RGB = [255, 230, 0];
const POINT_COLOURS: readonly RGB[] = [
  [230, 30, 30],
  [40, 80, 240],
];
const BOX: RGB = [255, 255, 255];

/** One PNG of `rows` of tiles (every image the same size), as bytes. */
export function measuredSheet(rows: readonly (readonly SheetTile[])[], marks: SheetMarks): Buffer {
  const first = rows[0]?.[0]?.image;
  if (!first) throw new Error("measuredSheet: no images");
  const side = first.width * SCALE;
  const cell = side + 2 * FRAME + GAP;
  const columns = Math.max(...rows.map((r) => r.length));
  const png = new PNG({ width: columns * cell + GAP, height: rows.length * cell + GAP });
  png.data.fill(255);
  rows.forEach((row, r) =>
    row.forEach((tile, c) => drawTile(png, tile, marks, GAP + FRAME + c * cell, GAP + FRAME + r * cell)),
  );
  return PNG.sync.write(png);
}

function drawTile(png: PNG, tile: SheetTile, marks: SheetMarks, left: number, top: number): void {
  const { image } = tile;
  const side = image.width * SCALE;
  const put = (x: number, y: number, c: RGB) => {
    if (x < 0 || y < 0 || x >= png.width || y >= png.height) return;
    png.data.set([...c, 255], (y * png.width + x) * 4);
  };
  if (tile.passes !== null) {
    const frame = tile.passes ? PASS : FAIL;
    for (let y = -FRAME; y < side + FRAME; y++)
      for (let x = -FRAME; x < side + FRAME; x++) put(left + x, top + y, frame);
  }
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      const i = (Math.floor(y / SCALE) * image.width + Math.floor(x / SCALE)) * 3;
      put(left + x, top + y, [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!]);
    }
  if (tile.horizon !== null) {
    const row = Math.min(side - 1, Math.round(tile.horizon * side));
    for (let x = 0; x < side; x++) put(left + x, top + row, HORIZON);
  }
  for (const [x0, y0, x1, y1] of marks.boxes ?? []) {
    const [l, t, r, b] = [x0, y0, x1, y1].map((v) => Math.min(side - 1, Math.round(v * side)));
    for (let x = l!; x <= r!; x++) [t!, b!].forEach((y) => put(left + x, top + y, BOX));
    for (let y = t!; y <= b!; y++) [l!, r!].forEach((x) => put(left + x, top + y, BOX));
  }
  marks.points?.forEach(([px, py], k) => {
    for (let dy = -2; dy <= 2; dy++)
      for (let dx = -2; dx <= 2; dx++)
        put(left + Math.round(px * side) + dx, top + Math.round(py * side) + dy, POINT_COLOURS[k]!);
  });
}

export interface SheetInputs {
  questions: readonly QuestionLike[];
  readings: readonly (SceneReading | null)[];
  images: readonly { prompt_index: number; seed: number; lora_scale: number }[];
  measurements: readonly Measurement[];
  pixels: readonly RGBImage[];
  taughtScale: number;
}

/**
 * The sheet of a recipe's first depth or layout control, a row without and a row with the LoRA per prompt
 * (a column per seed), as PNG bytes; null when the recipe has no such control.
 */
export function controlSheet(inputs: SheetInputs): Buffer | null {
  const control = controlsOf(inputs.questions, inputs.readings).find(
    (c) => c.attribute === "depth" || c.attribute === "layout",
  );
  if (!control) return null;
  const prompt = inputs.questions[control.question]!.visual_prompt as Overlay;
  const marks: SheetMarks =
    prompt.kind === "points"
      ? { points: [prompt.a, prompt.b] }
      : { boxes: prompt.kind === "layout" ? prompt.boxes.map((b) => b.box) : [] };
  const tile = (i: number): SheetTile => ({
    image: inputs.pixels[i]!,
    horizon: inputs.measurements[i]!.horizon,
    passes: control.passes(inputs.measurements[i]!, inputs.pixels[i]!),
  });
  const prompts = [...new Set(inputs.images.map((img) => img.prompt_index))].sort((a, b) => a - b);
  const row = (p: number, scale: number) =>
    inputs.images
      .map((img, i) => ({ img, i }))
      .filter(({ img }) => img.prompt_index === p && img.lora_scale === scale)
      .sort((a, b) => a.img.seed - b.img.seed)
      .map(({ i }) => tile(i));
  const rows = prompts.flatMap((p) => [row(p, 0), row(p, inputs.taughtScale)]).filter((r) => r.length > 0);
  return rows.length > 0 ? measuredSheet(rows, marks) : null;
}

/**
 * Measurer error table: measure every render of a Scenes dataset folder (PNGs + attributes.jsonl, as
 * written by `python -m dualproc_engine.world.dataset`), clean and degraded, compare with the ground
 * truth, and print a Markdown table of mean absolute error and 95th percentile per measurer and
 * condition.
 *
 *   npx tsx scripts/measurer-error.ts DIR [DIR ...] [--limit N] [--conditions clean,blur,noise,jpeg,shift]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import jpeg from "jpeg-js";
import { z } from "zod";
import { ciede2000, hexToLab, rgbToLab } from "../src/eval/measurers/colour.js";
import {
  colourShift,
  gaussianBlur,
  gaussianNoise,
  randomColourShift,
  shiftColour,
  type ColourShift,
} from "../src/eval/measurers/degrade.js";
import { comparePoints } from "../src/eval/measurers/depth.js";
import { guessKind, measure, paletteDistance, type Measurement } from "../src/eval/measurers/index.js";
import type { Lab, RGBImage } from "../src/eval/measurers/types.js";
import { readImage } from "../src/images/read.js";

/** The part of a scene's ground truth the measurers are compared with (docs/world-contract.md). */
const TruthSchema = z.object({
  file: z.string(),
  seed: z.number().int(),
  size_px: z.number().int().positive(),
  kind: z.enum(["landscape", "lineart"]),
  palette: z.object({ colors: z.array(z.string().regex(/^#[0-9a-fA-F]{6}$/)).min(1) }),
  horizon: z.number().nullable(),
  horizon_tilt_deg: z.number(),
  sky: z.enum(["day", "sunset", "night", "overcast"]).nullable(),
  stroke_width_px: z.number().nullable(),
  objects: z.array(
    z.object({
      box: z.tuple([z.number(), z.number(), z.number(), z.number()]),
      distance: z.number(),
      visible_point: z.tuple([z.number(), z.number()]).nullable(),
    }),
  ),
});
type Truth = z.infer<typeof TruthSchema>;

/** Parse one attributes.jsonl line; a malformed line is one error naming the line and field. */
function parseTruth(line: string, where: string): Truth {
  const r = TruthSchema.safeParse(JSON.parse(line));
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`${where}: ${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`);
  }
  return r.data;
}

/** JPEG round trip through jpeg-js (baseline, 4:2:0 chroma subsampling as most encoders do). */
function jpegRoundTrip(img: RGBImage, quality: number): RGBImage {
  const rgba = Buffer.alloc(img.width * img.height * 4);
  for (let i = 0, j = 0; j < img.data.length; i += 4, j += 3) {
    rgba[i] = img.data[j] as number;
    rgba[i + 1] = img.data[j + 1] as number;
    rgba[i + 2] = img.data[j + 2] as number;
    rgba[i + 3] = 255;
  }
  const enc = jpeg.encode({ data: rgba, width: img.width, height: img.height }, quality);
  const dec = jpeg.decode(enc.data, { useTArray: true, formatAsRGBA: false });
  return { width: dec.width, height: dec.height, data: Uint8Array.from(dec.data) };
}

type Condition = {
  name: string;
  describe: string;
  apply: (img: RGBImage, seed: number) => RGBImage;
  shift?: (seed: number) => ColourShift;
};

const SHIFT = (seed: number): ColourShift => randomColourShift(seed, 15, 0.1);

const CONDITIONS: Condition[] = [
  { name: "clean", describe: "the render as written", apply: (img) => img },
  {
    name: "blur",
    describe: "Gaussian blur, sigma = size/64 px",
    apply: (img) => gaussianBlur(img, img.width / 64),
  },
  {
    name: "noise",
    describe: "Gaussian noise, sigma 8/255 per channel",
    apply: (img, s) => gaussianNoise(img, 8, s),
  },
  { name: "jpeg", describe: "JPEG quality 50 (jpeg-js)", apply: (img) => jpegRoundTrip(img, 50) },
  {
    name: "shift",
    describe: "hue rotation up to +-15 deg, brightness up to +-10%",
    apply: (img, s) => colourShift(img, SHIFT(s)),
    shift: SHIFT,
  },
];

/** Errors collected per (measurer, size, condition). */
class Table {
  private readonly cells = new Map<string, number[]>();
  private readonly missing = new Map<string, number>();
  add(measurer: string, size: number, cond: string, err: number | null): void {
    const k = `${measurer}\u0000${size}\u0000${cond}`;
    if (err === null) this.missing.set(k, (this.missing.get(k) ?? 0) + 1);
    else this.cells.set(k, [...(this.cells.get(k) ?? []), err]);
  }
  markdown(units: Record<string, string>): string {
    const keys = [...new Set([...this.cells.keys(), ...this.missing.keys()])];
    const rows = keys.map((k) => k.split("\u0000") as [string, string, string]);
    const order = Object.keys(units);
    const condOrder = CONDITIONS.map((c) => c.name);
    rows.sort(
      (a, b) =>
        order.indexOf(a[0]) - order.indexOf(b[0]) ||
        Number(a[1]) - Number(b[1]) ||
        condOrder.indexOf(a[2]) - condOrder.indexOf(b[2]),
    );
    const lines = [
      "| measurer | unit | size | condition | n | mean | p95 | no answer |",
      "|---|---|---|---|---|---|---|---|",
    ];
    for (const [m, size, cond] of rows) {
      const k = `${m}\u0000${size}\u0000${cond}`;
      const v = this.cells.get(k) ?? [];
      const mean = v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
      // A share (0/1 per item) has no meaningful 95th percentile.
      const p95 = units[m]?.startsWith("share")
        ? NaN
        : ([...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.ceil(0.95 * v.length) - 1)] ?? NaN);
      lines.push(
        `| ${m} | ${units[m]} | ${size} | ${cond} | ${v.length} | ${fmt(mean)} | ${fmt(p95)} | ${this.missing.get(k) ?? 0} |`,
      );
    }
    return lines.join("\n");
  }
}

function fmt(v: number): string {
  return Number.isFinite(v) ? (Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2)) : "-";
}

const UNITS: Record<string, string> = {
  horizon: "% of height",
  horizon_tilt: "degrees",
  stroke_width: "px",
  stroke_width_rel: "% of width",
  palette: "CIEDE2000",
  palette_drawn: "CIEDE2000",
  sky_error: "share wrong",
  objects_missed: "share of large visible objects",
  objects_spurious: "share of measured boxes",
  depth_order: "share of point pairs wrong",
  kind_error: "share wrong",
};

function shifted(hex: string, shift: ColourShift | undefined): Lab {
  if (!shift) return hexToLab(hex);
  const s = shiftColour(hexToRgbTriple(hex), shift);
  return hexToLab("#" + s.map((v) => Math.round(v).toString(16).padStart(2, "0")).join(""));
}

/**
 * The palette colours the clean render actually shows (>= 0.2% of its pixels within CIEDE2000 3): a
 * palette lists 4-6 colours, scenes often paint only some of them, and no measurer can see the rest.
 */
function drawnColours(truth: Truth, clean: RGBImage): string[] {
  const n = clean.width * clean.height;
  const labs: Lab[] = [];
  for (let i = 0; i < n; i++)
    labs.push(rgbToLab(clean.data[i * 3]!, clean.data[i * 3 + 1]!, clean.data[i * 3 + 2]!));
  return truth.palette.colors.filter((hex) => {
    const c = hexToLab(hex);
    return labs.filter((p) => ciede2000(c, p) < 3).length >= Math.max(4, 0.002 * n);
  });
}

function iou(a: readonly number[], b: readonly number[]): number {
  const ix = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const iy = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const area = (r: readonly number[]): number => (r[2]! - r[0]!) * (r[3]! - r[1]!);
  const inter = ix * iy;
  return inter / (area(a) + area(b) - inter);
}

/** Large objects (box >= 2% of the image, at least partly visible) and whether a measured box finds each. */
function scoreObjects(table: Table, truth: Truth, boxes: number[][], size: number, cond: string): void {
  const large = truth.objects.filter(
    (o) => o.visible_point !== null && (o.box[2] - o.box[0]) * (o.box[3] - o.box[1]) >= 0.02,
  );
  for (const o of large)
    table.add("objects_missed", size, cond, boxes.some((b) => iou(b, o.box) >= 0.3) ? 0 : 1);
  for (const b of boxes)
    table.add("objects_spurious", size, cond, truth.objects.some((o) => iou(b, o.box) >= 0.3) ? 0 : 1);
}

/**
 * Which of two visible objects is nearer, at their visible points, for the pairs the relative-depth
 * questions ask about (world/qa/depth.py: points at least 0.1 apart, distances at least 1.5x apart).
 */
function scoreDepth(table: Table, truth: Truth, img: RGBImage, m: Measurement, cond: string): void {
  const seen = truth.objects.filter((o) => o.visible_point !== null);
  for (const [i, a] of seen.entries())
    for (const b of seen.slice(i + 1)) {
      const [pa, pb] = [a.visible_point!, b.visible_point!];
      const ratio = Math.max(a.distance, b.distance) / Math.min(a.distance, b.distance);
      if (Math.hypot(pa[0] - pb[0], pa[1] - pb[1]) < 0.1 || ratio < 1.5) continue;
      const compared = comparePoints(img, m, pa, pb);
      if (!compared) {
        table.add("depth_order", truth.size_px, cond, null);
        continue;
      }
      const right = compared.aNearer === a.distance < b.distance;
      table.add("depth_order", truth.size_px, cond, right ? 0 : 1);
    }
}

function scoreScene(table: Table, truth: Truth, drawn: string[], img: RGBImage, cond: Condition): void {
  const size = truth.size_px;
  const m = measure(img, { kind: truth.kind });
  table.add("kind_error", size, cond.name, guessKind(img).kind === truth.kind ? 0 : 1);
  // Under a colour shift the truth is shifted too: the table then measures the measurer, not the shift.
  const shift = cond.shift?.(truth.seed);
  const measured = m.palette.map((c) => c.lab);
  const toTruth = (hexes: string[]): number | null =>
    measured.length && hexes.length
      ? paletteDistance(
          measured,
          hexes.map((h) => shifted(h, shift)),
        )
      : null;
  table.add("palette", size, cond.name, toTruth(truth.palette.colors));
  table.add("palette_drawn", size, cond.name, toTruth(drawn));
  scoreObjects(
    table,
    truth,
    m.objects.map((o) => o.box),
    size,
    cond.name,
  );
  if (truth.kind === "landscape" && truth.horizon !== null) {
    table.add(
      "horizon",
      size,
      cond.name,
      m.horizon === null ? null : 100 * Math.abs(m.horizon - truth.horizon),
    );
    table.add(
      "horizon_tilt",
      size,
      cond.name,
      m.horizon_tilt_deg === null ? null : Math.abs(m.horizon_tilt_deg - truth.horizon_tilt_deg),
    );
    if (truth.sky !== null)
      table.add("sky_error", size, cond.name, m.sky === null ? null : m.sky === truth.sky ? 0 : 1);
    scoreDepth(table, truth, img, m, cond.name);
  }
  if (truth.kind === "lineart" && truth.stroke_width_px !== null) {
    const e = m.stroke_width_px === null ? null : Math.abs(m.stroke_width_px - truth.stroke_width_px);
    table.add("stroke_width", size, cond.name, e);
    table.add("stroke_width_rel", size, cond.name, e === null ? null : (100 * e) / truth.stroke_width_px);
  }
}

function hexToRgbTriple(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { limit: { type: "string" }, conditions: { type: "string" } },
  });
  if (positionals.length === 0) {
    console.error(
      "Usage: tsx scripts/measurer-error.ts DIR [DIR ...] [--limit N] [--conditions clean,blur,...]",
    );
    process.exit(2);
  }
  const limit = values.limit ? Number(values.limit) : Infinity;
  const wanted = values.conditions?.split(",") ?? CONDITIONS.map((c) => c.name);
  const conds = CONDITIONS.filter((c) => wanted.includes(c.name));
  const table = new Table();
  const t0 = Date.now();
  let scenes = 0;
  for (const dir of positionals) {
    const lines = readFileSync(join(dir, "attributes.jsonl"), "utf8")
      .split("\n")
      .filter((l) => l.trim());
    lines.slice(0, limit).forEach((line, i) => {
      const truth = parseTruth(line, `${dir}/attributes.jsonl:${i + 1}`);
      const img = readImage(join(dir, truth.file));
      const drawn = drawnColours(truth, img);
      for (const c of conds) scoreScene(table, truth, drawn, c.apply(img, truth.seed), c);
      scenes++;
      if (scenes % 50 === 0)
        console.error(`${scenes} scenes measured (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    });
  }
  console.log(table.markdown(UNITS));
  console.log(
    `\n${scenes} scenes x ${conds.length} conditions in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  for (const c of conds) console.log(`- ${c.name}: ${c.describe}`);
}

main();

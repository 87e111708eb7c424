/**
 * The measurers asked the Scenes questions that have a visual prompt they read without a judge: relative
 * depth (points A and B) and layout match (labelled boxes), on a folder `dualproc world qa` wrote, each
 * answer compared with the world's. Prints a Markdown table of the share right per family and kind of record
 * (a layout that fits, a box moved off its object, two labels swapped), to set beside the judges' accuracy on
 * the same families (docs/judge.md).
 *
 *   dualproc world qa --kind landscape --families relative_depth,layout_match --n 300 --seed 5 --out DIR
 *   npx tsx scripts/measurer-qa.ts DIR
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { comparePoints } from "../src/eval/measurers/depth.js";
import { measure, type Measurement } from "../src/eval/measurers/index.js";
import { boxCoverage, LAYOUT_COVERAGE } from "../src/eval/measurers/layout.js";
import type { RGBImage } from "../src/eval/measurers/types.js";
import { readImage } from "../src/images/read.js";

const point = z.tuple([z.number(), z.number()]);
const QaRecord = z.object({
  file: z.string(),
  family: z.string(),
  answer: z.enum(["Yes", "No"]),
  overlay: z
    .union([
      z.object({ kind: z.literal("points"), a: point, b: point }),
      z.object({
        kind: z.literal("layout"),
        boxes: z.array(z.object({ box: z.tuple([z.number(), z.number(), z.number(), z.number()]) })),
      }),
    ])
    .nullable()
    .catch(null),
  params: z.record(z.string(), z.unknown()).default({}),
});
type Record = z.infer<typeof QaRecord>;

/** The measurers' answer to a record (true: Yes), null where they read nothing, undefined: not theirs. */
function measuredAnswer(r: Record, img: RGBImage, m: Measurement): boolean | null | undefined {
  const o = r.overlay;
  if (r.family === "relative_depth" && o?.kind === "points") {
    const [near, far] = r.params.relation === "farther" ? [o.b, o.a] : [o.a, o.b];
    return comparePoints(img, m, near, far)?.aNearer ?? null;
  }
  if (r.family === "layout_match" && o?.kind === "layout") {
    const coverage = boxCoverage(
      img,
      m,
      o.boxes.map((b) => b.box),
    );
    return coverage && coverage.every((c) => c >= LAYOUT_COVERAGE);
  }
  return undefined;
}

/** A row per family and kind of record: "relative_depth", "layout_match: shift" (perturbation), ... */
function rowOf(r: Record): string {
  const perturbation = r.params.perturbation;
  return typeof perturbation === "string" ? `${r.family}: ${perturbation}` : r.family;
}

function main(): void {
  const dir = process.argv[2];
  if (!dir) {
    console.error("Usage: tsx scripts/measurer-qa.ts QA_DIR (a folder `dualproc world qa` wrote)");
    process.exit(2);
  }
  const records = readFileSync(join(dir, "qa.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => QaRecord.parse(JSON.parse(line)));
  const measured = new Map<string, { img: RGBImage; m: Measurement }>();
  const tally = new Map<string, { right: number; n: number; unread: number }>();
  for (const r of records) {
    if (!measured.has(r.file)) {
      const img = readImage(join(dir, r.file));
      measured.set(r.file, { img, m: measure(img, { kind: "landscape" }) });
    }
    const { img, m } = measured.get(r.file)!;
    const answer = measuredAnswer(r, img, m);
    if (answer === undefined) continue;
    const t = tally.get(rowOf(r)) ?? { right: 0, n: 0, unread: 0 };
    t.n++;
    if (answer === null) t.unread++;
    else if (answer === (r.answer === "Yes")) t.right++;
    tally.set(rowOf(r), t);
  }
  console.log("| family: records | n | measurers right | unread (counted wrong) |");
  console.log("|---|---|---|---|");
  for (const [row, t] of [...tally].sort())
    console.log(`| ${row} | ${t.n} | ${((100 * t.right) / t.n).toFixed(1)}% | ${t.unread} |`);
}

main();

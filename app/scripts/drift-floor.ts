/**
 * The drift floor of a control: how often the drift checks of `dualproc eval` fire between a render and
 * the same scene rendered with only the controlled attribute changed (exact counterfactual pairs). What a
 * check reports here is not drift of a LoRA but what the measurers see change when the control alone
 * acts (objects sit on the horizon, so moving it moves them; the share of sky changes the dominant
 * colours). A taught LoRA cannot be expected to drift less than this.
 *
 *   npx tsx scripts/drift-floor.ts DIR [--controlled horizon|palette|stroke]
 *
 * DIR holds base/NNNN.png and control/NNNN.png (written by engine/studies/drift_floor.py).
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bootstrapMean } from "../src/eval/bootstrap.js";
import { DRIFT_CHECKS } from "../src/eval/drift.js";
import { measure } from "../src/eval/measurers/index.js";
import { percent } from "../src/report/eval-report.js";
import { readImage } from "../src/images/read.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { controlled: { type: "string", default: "" } },
});
const dir = positionals[0];
if (!dir) {
  console.error("usage: drift-floor.ts DIR [--controlled horizon|palette|stroke]");
  process.exit(2);
}
const files = readdirSync(join(dir, "base"))
  .filter((f) => f.endsWith(".png"))
  .sort();
const pairs = files.map((f) => {
  const [a, b] = [readImage(join(dir, "base", f)), readImage(join(dir, "control", f))];
  return { a: measure(a), b: measure(b), width: a.width };
});
console.log(`| check | changed in (95% interval) | pairs compared |`);
console.log(`|---|---|---|`);
for (const check of DRIFT_CHECKS) {
  if (check.controlledBy && check.controlledBy === values.controlled) continue;
  const changed = pairs.map((p) => check.changed(p.a, p.b, p.width)).filter((v): v is 0 | 1 => v !== null);
  console.log(
    `| ${check.label} | ${percent(bootstrapMean(changed))} | ${changed.length} of ${pairs.length} |`,
  );
}

/**
 * The drift floor of a control (src/eval/drift-floor.ts) on two folders of rendered twins, as a Markdown
 * table: how often each drift check of `dualproc eval` fires when only the control acts.
 *
 *   npx tsx scripts/drift-floor.ts DIR [--controlled horizon|palette|stroke]
 *
 * DIR holds base/ and control/, each as `write_dataset` writes it (engine/studies/drift_floor.py).
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { floorRates, measuredRenders } from "../src/eval/drift-floor.js";
import { percent } from "../src/report/eval-report.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { controlled: { type: "string", default: "" } },
});
const dir = positionals[0];
if (!dir) {
  console.error("usage: drift-floor.ts DIR [--controlled horizon|palette|stroke]");
  process.exit(2);
}
const rates = floorRates(
  measuredRenders(join(dir, "base")),
  measuredRenders(join(dir, "control")),
  new Set([values.controlled]),
);
console.log(`| check | changed in (95% interval) | pairs compared |`);
console.log(`|---|---|---|`);
for (const r of rates) console.log(`| ${r.label} | ${percent(r.rate)} | ${r.rate?.n ?? 0} |`);

import type { Command } from "commander";
import type { ResultOf } from "../../protocol/messages.js";
import { EngineError } from "../../engine/errors.js";
import { enginePython } from "../../engine/python.js";
import type { CliContext } from "../context.js";
import { runEngineJob } from "../engine-job.js";

export function doctorCommand(context: CliContext): Command {
  return context
    .command("doctor", "check Node, Python, the engine, torch, devices and locally available models")
    .option("--json", "print the report as JSON")
    .action(async (options: { json?: boolean }, command: Command) => {
      const console = context.consoleFor(command);
      const report = await collect(context, command);
      console.result(options.json ? JSON.stringify(report, null, 2) : formatDoctor(report));
      if (!report.engine.ok) process.exitCode = 1;
    });
}

interface DoctorReport {
  node: string;
  python: string;
  engine: { ok: true; info: ResultOf<"doctor">; families: string[] } | { ok: false; problem: string };
}

async function collect(context: CliContext, command: Command): Promise<DoctorReport> {
  const console = context.consoleFor(command);
  const base = { node: process.version, python: enginePython() };
  try {
    const info = await runEngineJob(console, "doctor", {});
    const models = await runEngineJob(console, "models", {});
    const families = [
      ...new Set(models.models.filter((m) => m.present).map((m) => `${m.family} (${m.role})`)),
    ];
    return { ...base, engine: { ok: true, info, families } };
  } catch (error) {
    if (!(error instanceof EngineError)) throw error;
    return { ...base, engine: { ok: false, problem: error.describe() } };
  }
}

function formatDoctor(report: DoctorReport): string {
  const lines = [`node      ${report.node}`, `python    ${report.python}`];
  if (!report.engine.ok) {
    lines.push(`engine    NOT WORKING: ${report.engine.problem}`);
    lines.push(
      "          fix: run `make setup` in the repository (or set DUALPROC_PYTHON to a Python with the engine)",
    );
    return lines.join("\n");
  }
  const { info, families } = report.engine;
  const devices = info.cuda_devices.map((d) => `cuda:${d.index} ${d.name} (${d.memory_gb} GB)`);
  const packages = Object.entries(info.packages).map(([name, version]) => `${name} ${version ?? "missing"}`);
  lines.push(
    `engine    dualproc_engine ${info.engine_version} (protocol ${info.protocol_version}) on Python ${info.python}`,
    `torch     ${info.torch ?? "missing: install torch >= 2.4"}`,
    `devices   ${devices.length > 0 ? devices.join(", ") : "CPU only (no CUDA device)"}`,
    `packages  ${packages.join(", ")}`,
    `hf cache  ${info.hf_cache}`,
    `kernels   ${
      info.hub_kernels
        ? "from the Hub allowed (USE_HUB_KERNELS is set): transformers may fetch and swap in layers"
        : "stock PyTorch layers (hub kernels off; USE_HUB_KERNELS=YES allows them)"
    }`,
    `models    ${families.length > 0 ? families.join(", ") : "none present locally (see `dualproc models`)"}`,
  );
  return lines.join("\n");
}

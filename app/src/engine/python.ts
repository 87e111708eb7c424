/** Which Python runs the engine: DUALPROC_PYTHON, else the repository's .venv, else python3 on PATH. */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

export function enginePython(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DUALPROC_PYTHON) return env.DUALPROC_PYTHON;
  const venv = `${repoRoot}.venv/bin/python`;
  return existsSync(venv) ? venv : "python3";
}

/** The command line that starts an engine worker. */
export function workerCommand(env: NodeJS.ProcessEnv = process.env): [string, string[]] {
  return [enginePython(env), ["-m", "dualproc_engine.worker"]];
}

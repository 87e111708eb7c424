/** The real Python engine behind the supervisor: round trips, a kept worker, cancel, and a killed worker. */
import { describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EngineWorker } from "../../src/engine/worker.js";
import type { EngineError } from "../../src/engine/errors.js";
import type { JobEvent } from "../../src/protocol/messages.js";
import { RunFolder } from "../../src/runs/run-folder.js";

const scratch = () => mkdtempSync(join(tmpdir(), "dualproc-worker-"));

describe("the real engine worker", () => {
  it("answers a models job and keeps running for the next job", async () => {
    const worker = await EngineWorker.start();
    try {
      const pid = worker.pid;
      const models = await worker.run("models", {});
      expect(models.models.map((m) => m.name)).toContain("flux-schnell");
      const doctor = await worker.run("doctor", {});
      expect(doctor.torch).toMatch(/^2\./);
      expect(doctor.hub_kernels).toBe(false); // the engine keeps transformers off kernels from the Hub
      expect(worker.pid).toBe(pid);
    } finally {
      await worker.close();
    }
  });

  it("cancels a render job, leaving a consistent folder marked cancelled", async () => {
    const dir = scratch();
    const params = { n: 5000, seed: 1, size_px: 64, kind: null, out_dir: dir };
    const run = new RunFolder(dir, "render", params);
    const worker = await EngineWorker.start();
    const abort = new AbortController();
    const onEvent = (event: JobEvent) => {
      run.record(event);
      if (event.type === "progress" && event.done > 0) abort.abort();
    };
    try {
      const error = (await worker
        .run("render", params, { signal: abort.signal, onEvent })
        .catch((e: unknown) => e)) as EngineError;
      expect(error.code).toBe("cancelled");
      run.record({ type: "failed", code: error.code, message: error.message });
      // The worker survives a cancelled job.
      expect((await worker.run("models", {})).models.length).toBeGreaterThan(0);
    } finally {
      await worker.close();
    }
    const state = JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as { status: string };
    expect(state.status).toBe("cancelled");
    const pngs = readdirSync(dir).filter((f) => f.endsWith(".png") && f !== "contact_sheet.png");
    const records = readFileSync(join(dir, "attributes.jsonl"), "utf8").trim().split("\n");
    expect(pngs.length).toBeGreaterThan(0);
    expect(pngs.length).toBeLessThan(5000);
    expect(records).toHaveLength(pngs.length); // every record has its image and no image lacks a record
    for (const record of records)
      expect(existsSync(join(dir, (JSON.parse(record) as { file: string }).file))).toBe(true);
  });

  it("reports a worker killed mid-job as one line with its exit signal", async () => {
    const dir = scratch();
    const worker = await EngineWorker.start();
    const params = { n: 5000, seed: 2, size_px: 64, kind: null, out_dir: dir };
    const error = (await worker
      .run("render", params, {
        id: "doomed",
        onEvent: (event) => {
          if (event.type === "progress" && event.done > 0) process.kill(worker.pid!, "SIGKILL");
        },
      })
      .catch((e: unknown) => e)) as EngineError;
    expect(error.code).toBe("worker_died");
    expect(error.message).toBe("engine worker died (signal SIGKILL) while running render job doomed");
    expect(worker.isAlive).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { EngineWorker } from "../../src/engine/worker.js";
import { EngineError } from "../../src/engine/errors.js";

const fake = fileURLToPath(new URL("../fixtures/fake-worker.mjs", import.meta.url));
const fakeWorker = (mode: string, startTimeoutMs = 10_000) =>
  EngineWorker.start({ command: [process.execPath, [fake, mode]], startTimeoutMs });

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("worker supervision against misbehaving fake workers", () => {
  it("reports a worker that dies before it is ready, with its stderr", async () => {
    const error = (await fakeWorker("die-at-start").catch((e: unknown) => e)) as EngineError;
    expect(error.code).toBe("start_failed");
    expect(error.message).toMatch(/exited \(exit code 1\) before it was ready/);
    expect(error.describe()).toContain("No module named 'dualproc_engine'");
  });

  it("gives up on a worker that never says ready", async () => {
    const error = (await fakeWorker("never-ready", 500).catch((e: unknown) => e)) as EngineError;
    expect(error.code).toBe("start_failed");
    expect(error.message).toMatch(/did not become ready in 500 ms/);
  });

  it("rejects the running job when the worker crashes, naming the exit and the last stderr lines", async () => {
    const worker = await fakeWorker("crash-on-job");
    const error = (await worker.run("models", {}, { id: "j7" }).catch((e: unknown) => e)) as EngineError;
    expect(error.code).toBe("worker_died");
    expect(error.message).toBe("engine worker died (exit code 139) while running models job j7");
    expect(error.stderrTail).toEqual(["loading the model", "Segmentation fault in the engine"]);
    expect(worker.isAlive).toBe(false);
    const again = (await worker.run("models", {}).catch((e: unknown) => e)) as EngineError;
    expect(again.code).toBe("worker_died");
  });

  it("skips junk on stdout and still delivers the job's events and result", async () => {
    const logs: string[] = [];
    const worker = await EngineWorker.start({
      command: [process.execPath, [fake, "junk"]],
      onLog: (_level, message) => logs.push(message),
    });
    const events: string[] = [];
    const result = await worker.run("models", {}, { onEvent: (e) => events.push(e.type) });
    expect(result).toEqual({ models: [] });
    expect(events).toEqual(["progress"]);
    expect(logs.filter((l) => l.startsWith("stray worker output"))).toHaveLength(2);
    await worker.close();
    expect(worker.isAlive).toBe(false);
  });

  it("refuses a job whose parameters the protocol rejects, in one line naming the parameter, and stays usable", async () => {
    const worker = await fakeWorker("junk");
    const params = { images: ["a.png"], question: "", answer: "Yes", overlay: null, judge: "scenes-judge" };
    const error = (await worker.run("ask", params).catch((e: unknown) => e)) as EngineError;
    expect(error).toBeInstanceOf(EngineError);
    expect(error.code).toBe("invalid_input");
    expect(error.isUserError).toBe(true);
    expect(error.message).toMatch(/^ask: question: /);
    expect(await worker.run("models", {})).toEqual({ models: [] });
    await worker.close();
  });

  it("kills a worker that ignores shutdown and SIGTERM", async () => {
    const worker = await fakeWorker("stubborn");
    const pid = worker.pid!;
    await worker.close(200);
    expect(worker.isAlive).toBe(false);
    expect(isAlive(pid)).toBe(false);
  });
});

/**
 * Running one engine job: a worker, progress on stderr, the run folder, and cancellation.
 * From the CLI, the first Ctrl-C asks the engine to cancel (the run folder is left consistent, marked
 * cancelled) and a second one kills the worker. The studio passes its own `signal` instead (its stop
 * button) and watches the events through `onEvent`; Ctrl-C is then left to the studio.
 */
import type { JobEvent, JobKind, ParamsOf, ResultOf } from "../protocol/messages.js";
import { EngineWorker } from "../engine/worker.js";
import { EngineError } from "../engine/errors.js";
import { RunFolder } from "../runs/run-folder.js";
import type { Console } from "./io.js";
import { Progress } from "./progress.js";

export interface EngineJobOptions {
  /** Record the run (run.json, events.jsonl) in this folder. */
  runDir?: string;
  label?: string;
  /** Cancel from outside (the studio); when given, Ctrl-C is not handled here. */
  signal?: AbortSignal;
  /** Every event of the job, after it is recorded in the run folder. */
  onEvent?: (event: JobEvent) => void;
  /**
   * Run on this worker and leave it open for the caller's next job (openEngineWorker), instead of starting
   * one for the job and closing it after: a worker's start costs seconds of CPU.
   */
  worker?: EngineWorker;
}

export async function runEngineJob<K extends JobKind>(
  console: Console,
  kind: K,
  params: ParamsOf<K>,
  options: EngineJobOptions = {},
): Promise<ResultOf<K>> {
  const run = options.runDir ? new RunFolder(options.runDir, kind, params) : undefined;
  const progress = new Progress(console, options.label ?? kind);
  const worker = options.worker ?? (await startWorker(console, run));
  const abort = new AbortController();
  const onOuterAbort = () => abort.abort();
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  if (options.signal?.aborted) abort.abort();
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts += 1;
    if (interrupts === 1) {
      progress.done();
      console.info("cancelling at the next safe point (Ctrl-C again to stop at once)");
      abort.abort();
    } else {
      void worker.close(0);
    }
  };
  if (!options.signal) process.on("SIGINT", onInterrupt);
  try {
    const result = await worker.run(kind, params, {
      signal: abort.signal,
      onEvent: (event) => {
        run?.record(event);
        options.onEvent?.(event);
        if (event.type === "progress") progress.update(event.done, event.total, event.unit);
        else if (event.type === "log") logEngineMessage(console, event.level, event.message);
        else if (event.type === "artifact") console.debug(`wrote ${event.path}`);
      },
    });
    progress.done();
    run?.record({ type: "succeeded", result });
    return result;
  } catch (error) {
    progress.done();
    if (error instanceof EngineError)
      run?.record({ type: "failed", code: error.code, message: error.message });
    throw error;
  } finally {
    process.off("SIGINT", onInterrupt);
    options.signal?.removeEventListener("abort", onOuterAbort);
    if (!options.worker) await worker.close();
  }
}

/** A worker for several jobs in a row (`worker` in EngineJobOptions); the caller closes it. */
export function openEngineWorker(console: Console): Promise<EngineWorker> {
  return startWorker(console, undefined);
}

async function startWorker(console: Console, run: RunFolder | undefined): Promise<EngineWorker> {
  try {
    return await EngineWorker.start({ onLog: (level, message) => logEngineMessage(console, level, message) });
  } catch (error) {
    if (error instanceof EngineError)
      run?.record({ type: "failed", code: error.code, message: error.message });
    throw error;
  }
}

function logEngineMessage(console: Console, level: string, message: string): void {
  if (level === "warning" || level === "error") console.warn(message);
  else if (level === "info") console.info(message);
  else console.debug(message);
}

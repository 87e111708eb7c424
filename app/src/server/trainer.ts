/**
 * One training at a time, the rest in a queue: the studio's teach runs. Each run is `dualproc teach` in a
 * run folder (the same function the CLI calls), so a studio run and a CLI run are the same thing on disk.
 * What happens is announced through `notify`: the run list when it changes, a run's summary as it moves
 * (throttled), and its log lines.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { EngineError } from "../engine/errors.js";
import { Console } from "../cli/io.js";
import { teachRun, type TeachPlan } from "../cli/commands/teach.js";
import { EVAL_DEFAULTS } from "../cli/commands/eval.js";
import type { JobEvent } from "../protocol/messages.js";
import type { RunSummary, StudioEvent } from "../protocol/studio.js";
import { RunFolder } from "../runs/run-folder.js";
import type { RunsStore } from "../runs/runs-store.js";

const SUMMARY_INTERVAL_MS = 250;

interface Entry {
  id: string;
  plan: TeachPlan;
  evalSeeds: number;
  abort: AbortController;
  stage: "queued" | "teach" | "eval";
  /** The latest progress and metrics, ahead of run.json (which is written at most once a second). */
  progress: RunSummary["progress"];
  metrics: Record<string, number>;
}

export class Trainer {
  private readonly queue: Entry[] = [];
  private active: Entry | undefined;
  private lastSummaryAt = 0;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: RunsStore,
    private readonly notify: (event: StudioEvent) => void,
  ) {}

  /** Queue a run whose folder `plan.out` is `store.dir(id)`; returns how many runs are ahead of it. */
  enqueue(id: string, plan: TeachPlan, evalSeeds: number): number {
    const entry: Entry = {
      id,
      plan,
      evalSeeds,
      abort: new AbortController(),
      stage: "queued",
      progress: null,
      metrics: {},
    };
    this.queue.push(entry);
    const position = this.queue.length - 1 + (this.active ? 1 : 0);
    this.announceList();
    if (!this.active) this.idle = this.drain();
    return position;
  }

  /** Stop a run: a queued one leaves the queue; the running one stops at the engine's next safe point. */
  stop(id: string): boolean {
    const queued = this.queue.findIndex((e) => e.id === id);
    if (queued >= 0) {
      const [entry] = this.queue.splice(queued, 1);
      // A new run's folder already lists it: say in it how it ended, as a run stopped by the CLI would.
      // (A resumed run keeps the run.json of its earlier part.)
      if (!existsSync(join(entry!.plan.out, "run.json")))
        new RunFolder(entry!.plan.out, "teach", null).record({
          type: "failed",
          code: "cancelled",
          message: "stopped before it started",
        });
      this.announceList();
      return true;
    }
    if (this.active?.id !== id) return false;
    this.active.abort.abort();
    return true;
  }

  get activeId(): string | null {
    return this.active?.id ?? null;
  }

  isQueued(id: string): boolean {
    return this.queue.some((e) => e.id === id);
  }

  /** The folder's summary of run `id`, with what only the trainer knows about live and queued runs. */
  summary(id: string): RunSummary {
    return this.overlay(this.store.summary(id));
  }

  /** Every run, with the live and queued ones as the trainer sees them. */
  list(): RunSummary[] {
    const fromDisk = this.store.list().map((run) => this.overlay(run));
    const listed = new Set(fromDisk.map((r) => r.id));
    return fromDisk.concat(this.queue.filter((e) => !listed.has(e.id)).map((e) => this.summary(e.id)));
  }

  /** A folder's summary with what only the trainer knows: queued, or live progress ahead of run.json. */
  private overlay(base: RunSummary): RunSummary {
    if (this.queue.some((e) => e.id === base.id))
      return { ...base, status: "queued", stage: "queued", error: null, resumable: false };
    const live = this.active?.id === base.id ? this.active : undefined;
    if (!live) return base;
    return {
      ...base,
      status: "running",
      resumable: false,
      stage: live.stage === "queued" ? "teach" : live.stage,
      error: null,
      finished_at: null,
      progress: live.progress ?? base.progress,
      teach_progress: live.stage === "teach" ? (live.progress ?? base.teach_progress) : base.teach_progress,
      metrics: { ...base.metrics, ...(live.stage === "teach" ? live.metrics : {}) },
    };
  }

  /** Resolves when the queue is empty and nothing runs (tests and shutdown wait on it). */
  async whenIdle(): Promise<void> {
    while (this.active || this.queue.length) await this.idle;
  }

  /** Stop everything: empty the queue, stop the running job, wait for it. */
  async close(): Promise<void> {
    this.queue.length = 0;
    this.active?.abort.abort();
    await this.idle;
  }

  private async drain(): Promise<void> {
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      this.active = next;
      this.announceList();
      await this.runOne(next);
      this.active = undefined;
      this.announceList();
    }
  }

  private async runOne(entry: Entry): Promise<void> {
    const console = new Console(this.logIO(entry.id), "normal");
    try {
      await teachRun(console, entry.plan, {
        eval: true,
        evalOptions: { ...EVAL_DEFAULTS, seeds: entry.evalSeeds },
        signal: entry.abort.signal,
        onEvent: (event) => this.onEvent(entry, event),
        onStage: (stage) => {
          entry.stage = stage;
          entry.progress = null;
          this.announceRun(entry.id, true);
        },
      });
    } catch (error) {
      // The run folder already records how the job ended; this is the one line for the page's log.
      if (error instanceof EngineError && error.code === "cancelled")
        return this.notify({ type: "log", id: entry.id, level: "info", message: "stopped" });
      const message =
        error instanceof EngineError
          ? error.describe()
          : error instanceof Error
            ? error.message
            : String(error);
      this.notify({ type: "log", id: entry.id, level: "error", message });
    }
  }

  private onEvent(entry: Entry, event: JobEvent): void {
    if (event.type === "progress") {
      entry.progress = { done: event.done, total: event.total, unit: event.unit };
    } else if (event.type === "metric") {
      entry.metrics[event.name] = event.value;
    }
    // The engine's log lines reach the page through the run's console (logIO), as the CLI prints them.
    this.announceRun(entry.id, event.type === "artifact");
  }

  private logIO(id: string) {
    const emit = (level: string) => (text: string) => {
      for (const line of text.split("\n").filter((l) => l.trim()))
        this.notify({ type: "log", id, level, message: line.replace(/^warning: /, "") });
    };
    return { out: emit("info"), err: emit("info"), errIsTTY: false };
  }

  private announceRun(id: string, now: boolean): void {
    if (!now && Date.now() - this.lastSummaryAt < SUMMARY_INTERVAL_MS) return;
    this.lastSummaryAt = Date.now();
    this.notify({ type: "run", run: this.summary(id) });
  }

  private announceList(): void {
    this.notify({ type: "runs", runs: this.list(), active: this.activeId });
  }
}

/**
 * A run is a folder: run.json (the state, rewritten atomically so it is never half-written), events.jsonl
 * (every event, appended as it comes), and whatever files the job writes beside them.
 */
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { initialRunState, reduceRun, type RunEvent, type RunState } from "./lifecycle.js";

const STATE_WRITE_INTERVAL_MS = 1_000;

export class RunFolder {
  private state: RunState;
  private lastStateWrite = 0;

  constructor(
    readonly dir: string,
    kind: string,
    readonly params: unknown,
  ) {
    mkdirSync(dir, { recursive: true });
    this.state = initialRunState(kind, new Date());
    this.writeState();
  }

  get current(): RunState {
    return this.state;
  }

  record(event: RunEvent): void {
    appendFileSync(
      join(this.dir, "events.jsonl"),
      JSON.stringify({ at: new Date().toISOString(), ...event }) + "\n",
    );
    const before = this.state;
    this.state = reduceRun(this.state, event, new Date());
    // Progress is frequent: write it at most once a second; every other change at once.
    const onlyProgress = event.type === "progress" || event.type === "log";
    if (
      this.state.status !== before.status ||
      !onlyProgress ||
      Date.now() - this.lastStateWrite > STATE_WRITE_INTERVAL_MS
    ) {
      this.writeState();
    }
  }

  private writeState(): void {
    const path = join(this.dir, "run.json");
    const text = JSON.stringify({ ...this.state, params: this.params }, null, 2) + "\n";
    writeFileSync(path + ".tmp", text);
    renameSync(path + ".tmp", path);
    this.lastStateWrite = Date.now();
  }
}

/** A fresh folder name under `root` for a run of `kind`, sortable by time. */
export function newRunDir(root: string, kind: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[:.]/g, "-").replace("Z", "");
  const suffix = Math.random().toString(36).slice(2, 6);
  return join(root, `${stamp}-${kind}-${suffix}`);
}

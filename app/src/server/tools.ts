/**
 * The studio's quick engine work (previews to draw visual prompts on, trying a taught LoRA, the model
 * list) on one long-lived worker, so that each request pays for a job, not for starting Python. Jobs on it
 * run one after another; a worker that died is replaced on the next request. Training never runs here: it
 * has its own worker per run (trainer.ts), so a preview never waits for a training to end.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { EngineWorker } from "../engine/worker.js";
import type { JobKind, ParamsOf, ResultOf } from "../protocol/messages.js";

export class Tools {
  private worker: Promise<EngineWorker> | undefined;

  /** @param scratch where generated images go (one new folder per request) */
  constructor(private readonly scratch: string) {}

  /** A fresh folder for one request's images; returns its name and path. */
  newOutput(): { name: string; dir: string } {
    const name = randomUUID();
    const dir = join(this.scratch, name);
    mkdirSync(dir, { recursive: true });
    return { name, dir };
  }

  async run<K extends JobKind>(kind: K, params: ParamsOf<K>): Promise<ResultOf<K>> {
    const worker = await this.alive();
    return worker.run(kind, params);
  }

  /** The job's result and the warnings the engine logged on the way (a prompt's unknown words, say). */
  async runWithWarnings<K extends JobKind>(
    kind: K,
    params: ParamsOf<K>,
  ): Promise<{ result: ResultOf<K>; warnings: string[] }> {
    const warnings: string[] = [];
    const worker = await this.alive();
    const result = await worker.run(kind, params, {
      onEvent: (event) => {
        if (event.type === "log" && event.level === "warning") warnings.push(event.message);
      },
    });
    return { result, warnings };
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await (await worker.catch(() => undefined))?.close();
  }

  private async alive(): Promise<EngineWorker> {
    const current = this.worker ? await this.worker.catch(() => undefined) : undefined;
    if (current?.isAlive) return current;
    this.worker = EngineWorker.start();
    return this.worker;
  }
}

/**
 * Supervision of one engine worker process: a small state machine.
 *
 *   starting --ready--> idle <--result/error-- busy
 *       \                 \                     /
 *        `--exit--> dead <-`-------exit-------'      (close(): stopping -> dead)
 *
 * The start handshake fails as soon as the child dies; a job whose worker dies is rejected with the exit
 * status and the worker's last stderr lines; cancel asks the engine to stop at its next safe point; close()
 * sends shutdown, then SIGTERM, then SIGKILL after a grace period. Workers never outlive this process.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { randomUUID } from "node:crypto";
import {
  Request,
  type Event,
  type JobEvent,
  type JobKind,
  type ParamsOf,
  type ResultOf,
} from "../protocol/messages.js";
import { describeIssue, parseEventLine } from "../protocol/parse.js";
import { EngineError } from "./errors.js";
import { workerCommand } from "./python.js";

export interface WorkerOptions {
  /** Program and arguments; defaults to the engine's worker module on the engine Python. */
  command?: [string, string[]];
  env?: NodeJS.ProcessEnv;
  /** How long the worker may take to say it is ready. */
  startTimeoutMs?: number;
  /** Worker log events, stray stdout lines and stderr lines, for verbose output. */
  onLog?: (level: "debug" | "info" | "warning" | "error", message: string) => void;
}

export interface RunOptions {
  /** Every event of the job (progress, metric, artifact, log), in order, before the promise settles. */
  onEvent?: (event: JobEvent) => void;
  /** Aborting asks the engine to cancel the job; the promise then rejects with code 'cancelled'. */
  signal?: AbortSignal;
  id?: string;
}

type State = "starting" | "idle" | "busy" | "stopping" | "dead";

interface PendingJob {
  id: string;
  kind: JobKind;
  onEvent: (event: JobEvent) => void;
  resolve: (value: unknown) => void;
  reject: (error: EngineError) => void;
}

const STDERR_TAIL_LINES = 20;
const live = new Set<ChildProcessWithoutNullStreams>();
let exitHookInstalled = false;

export class EngineWorker {
  private state: State = "starting";
  private current: PendingJob | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly stderrTail: string[] = [];
  private exitDescription = "";
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly options: WorkerOptions,
  ) {
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
  }

  /** Spawn a worker and wait for its ready event. */
  static async start(options: WorkerOptions = {}): Promise<EngineWorker> {
    const [program, args] = options.command ?? workerCommand(options.env);
    const child = spawn(program, args, {
      env: {
        ...process.env,
        ...options.env,
        PYTHONUNBUFFERED: "1",
        OMP_NUM_THREADS: engineThreads(options.env),
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    installExitHook();
    live.add(child);
    const worker = new EngineWorker(child, options);
    await worker.handshake(program, options.startTimeoutMs ?? 120_000);
    return worker;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get isAlive(): boolean {
    return this.state !== "dead";
  }

  /** Run one job; jobs on one worker run one after another. */
  run<K extends JobKind>(kind: K, params: ParamsOf<K>, options: RunOptions = {}): Promise<ResultOf<K>> {
    const turn = this.queue.then(() => this.runNow(kind, params, options));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Ask the engine to stop job `id` at its next safe point. */
  cancel(id: string): void {
    this.send({ type: "cancel", id });
  }

  /** Shut down politely, then by force: shutdown message, SIGTERM after graceMs, SIGKILL after another. */
  async close(graceMs = 3_000): Promise<void> {
    if (this.state === "dead") return;
    this.state = "stopping";
    this.send({ type: "shutdown" });
    this.child.stdin.end();
    if (await this.exitsWithin(graceMs)) return;
    this.child.kill("SIGTERM");
    if (await this.exitsWithin(graceMs)) return;
    this.child.kill("SIGKILL");
    await this.exited;
  }

  private handshake(program: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.kill("SIGKILL");
        reject(
          this.failure("start_failed", `engine worker (${program}) did not become ready in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const lines = createInterface({ input: this.child.stdout });
      lines.on("line", (line) => this.onStdoutLine(line, resolve, timer));
      createInterface({ input: this.child.stderr }).on("line", (line) => this.onStderrLine(line));
      this.child.once("error", (error) => {
        clearTimeout(timer);
        this.state = "dead";
        reject(
          new EngineError("start_failed", `cannot start the engine worker (${program}): ${error.message}`),
        );
      });
      this.child.once("exit", (code, signal) => {
        clearTimeout(timer);
        live.delete(this.child);
        this.exitDescription = signal ? `signal ${signal}` : `exit code ${code}`;
        const wasStarting = this.state === "starting";
        this.state = "dead";
        if (wasStarting) {
          reject(
            this.failure(
              "start_failed",
              `engine worker exited (${this.exitDescription}) before it was ready`,
            ),
          );
        }
        this.onDeath();
      });
    });
  }

  private onStdoutLine(line: string, ready: () => void, timer: NodeJS.Timeout): void {
    const parsed = parseEventLine(line);
    if (!parsed.ok) {
      this.options.onLog?.("warning", `stray worker output (${parsed.reason}): ${line.slice(0, 200)}`);
      return;
    }
    const event = parsed.event;
    if (event.type === "ready") {
      clearTimeout(timer);
      if (this.state === "starting") this.state = "idle";
      ready();
      return;
    }
    this.route(event);
  }

  private onStderrLine(line: string): void {
    this.stderrTail.push(line);
    if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
    this.options.onLog?.("debug", `engine: ${line}`);
  }

  private route(event: Exclude<Event, { type: "ready" }>): void {
    const job = this.current;
    const belongsToJob = job !== undefined && (event.job === job.id || event.job === null);
    if (!belongsToJob || job === undefined) {
      if (event.type === "log") this.options.onLog?.(event.level, event.message);
      else if (event.type === "error") this.options.onLog?.("error", `engine: ${event.message}`);
      return;
    }
    switch (event.type) {
      case "result":
        this.finish(job);
        job.resolve(event.result);
        return;
      case "error":
        this.finish(job);
        job.reject(new EngineError(event.code, event.message));
        return;
      case "log":
      case "progress":
      case "metric":
      case "artifact":
        job.onEvent(event);
        return;
      default: {
        const unreachable: never = event;
        throw new Error(`unhandled event ${JSON.stringify(unreachable)}`);
      }
    }
  }

  private runNow<K extends JobKind>(kind: K, params: ParamsOf<K>, options: RunOptions): Promise<ResultOf<K>> {
    if (this.state !== "idle") {
      const why = this.state === "dead" ? `it has exited (${this.exitDescription})` : `it is ${this.state}`;
      return Promise.reject(
        this.failure("worker_died", `cannot run ${kind}: the engine worker is gone, ${why}`),
      );
    }
    const id = options.id ?? `${kind}-${randomUUID().slice(0, 8)}`;
    // Checked before anything is sent: a value a caller let through (an empty prompt, say) is the user's to
    // fix, so it comes back as one line naming the parameter, not as a stack trace.
    const request = Request.safeParse({ type: "job", id, kind, params });
    if (!request.success) {
      const issue = describeIssue(request.error).replace(/^params\./, "");
      return Promise.reject(new EngineError("invalid_input", `${kind}: ${issue}`));
    }
    const onAbort = () => this.cancel(id);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const settled = new Promise<unknown>((resolve, reject) => {
      const onEvent = options.onEvent ?? (() => undefined);
      this.current = { id, kind, onEvent, resolve, reject };
      this.state = "busy";
      this.send(request.data);
      if (options.signal?.aborted) onAbort();
    });
    // The result was checked against the Event schema, whose result branch is tied to the job's kind.
    return settled.finally(() => options.signal?.removeEventListener("abort", onAbort)) as Promise<
      ResultOf<K>
    >;
  }

  private finish(job: PendingJob): void {
    if (this.current === job) this.current = undefined;
    if (this.state === "busy") this.state = "idle";
  }

  private onDeath(): void {
    const job = this.current;
    if (!job) return;
    this.current = undefined;
    job.reject(
      this.failure(
        "worker_died",
        `engine worker died (${this.exitDescription}) while running ${job.kind} job ${job.id}`,
      ),
    );
  }

  private failure(code: "worker_died" | "start_failed", message: string): EngineError {
    return new EngineError(code, message, [...this.stderrTail]);
  }

  private send(message: Request): void {
    if (this.state === "dead" || this.child.stdin.destroyed || !this.child.stdin.writable) return;
    this.child.stdin.write(JSON.stringify(message) + "\n");
  }

  private async exitsWithin(ms: number): Promise<boolean> {
    if (this.state === "dead") return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const result = await Promise.race([this.exited.then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }
}

/** Run one job on a fresh worker and close it afterwards. */
export async function runJob<K extends JobKind>(
  kind: K,
  params: ParamsOf<K>,
  options: RunOptions & WorkerOptions = {},
): Promise<ResultOf<K>> {
  const worker = await EngineWorker.start(options);
  try {
    return await worker.run(kind, params, options);
  } finally {
    await worker.close();
  }
}

/**
 * CPU threads for the engine's torch: DUALPROC_NUM_THREADS, else OMP_NUM_THREADS, else 1. The embedded models
 * are small; on a busy 2-core machine two threads made a teach step 70 times slower than one (spin-waiting
 * threads fighting for the cores), while one thread costs little when the machine is idle.
 */
function engineThreads(env: NodeJS.ProcessEnv = {}): string {
  const all = { ...process.env, ...env };
  return all.DUALPROC_NUM_THREADS ?? all.OMP_NUM_THREADS ?? "1";
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A worker must never outlive the app, whatever way the app ends.
  process.once("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
}

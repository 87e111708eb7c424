/** Progress of long work on stderr: a redrawn bar on a terminal, a line every few seconds elsewhere. */
import { timeLeft } from "../runs/time-left.js";
import type { Console } from "./io.js";

const BAR_WIDTH = 24;
const LINE_INTERVAL_MS = 5_000;

export class Progress {
  private lastLineAt = 0;
  private drawn = false;
  /** The first update's count and time: the rate is measured from there, so neither a resumed job's earlier
   * steps nor the start-up before the first report (loading models) bend it. */
  private first: { done: number; at: number } | null = null;

  constructor(
    private readonly console: Console,
    private readonly label: string,
    private readonly now: () => number = Date.now,
  ) {}

  update(done: number, total: number | null, unit: string): void {
    if (this.console.verbosity === "quiet") return;
    this.first ??= { done, at: this.now() };
    const text = this.format(done, total, unit);
    if (this.console.io.errIsTTY) {
      this.console.io.err(`\r\x1b[2K${text}`);
      this.drawn = true;
    } else if (this.now() - this.lastLineAt >= LINE_INTERVAL_MS || done === total) {
      this.console.io.err(text + "\n");
      this.lastLineAt = this.now();
    }
  }

  /** End the redrawn line so the next output starts on a fresh one. */
  done(): void {
    if (this.drawn) this.console.io.err("\n");
    this.drawn = false;
  }

  private format(done: number, total: number | null, unit: string): string {
    const seconds = this.first ? (this.now() - this.first.at) / 1000 : 0;
    const perSecond = seconds > 0 && this.first ? (done - this.first.done) / seconds : 0;
    const rate = perSecond > 0 ? ` ${formatRate(perSecond, unit)}` : "";
    if (total === null || total === 0) return `${this.label} ${done} ${unit}${rate}`;
    const filled = Math.round((BAR_WIDTH * Math.min(done, total)) / total);
    const bar = "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled);
    const left = done < total && perSecond > 0 ? `, ${timeLeft((total - done) / perSecond)} left` : "";
    return `${this.label} [${bar}] ${done}/${total} ${unit}${rate}${left}`;
  }
}

/** "3.0 steps/s"; below one every two seconds, the seconds each one takes ("27 s each"), since a rate
 * shown to one decimal would read "0.0 sources/s" for slow units. */
export function formatRate(perSecond: number, unit: string): string {
  if (perSecond >= 0.5) return `${perSecond.toFixed(1)} ${unit}/s`;
  return `${Math.round(1 / perSecond)} s each`;
}

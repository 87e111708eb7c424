/** Progress of long work on stderr: a redrawn bar on a terminal, a line every few seconds elsewhere. */
import type { Console } from "./io.js";

const BAR_WIDTH = 24;
const LINE_INTERVAL_MS = 5_000;

export class Progress {
  private readonly startedAt = Date.now();
  private lastLineAt = 0;
  private drawn = false;

  constructor(
    private readonly console: Console,
    private readonly label: string,
  ) {}

  update(done: number, total: number | null, unit: string): void {
    if (this.console.verbosity === "quiet") return;
    const text = this.format(done, total, unit);
    if (this.console.io.errIsTTY) {
      this.console.io.err(`\r\x1b[2K${text}`);
      this.drawn = true;
    } else if (Date.now() - this.lastLineAt >= LINE_INTERVAL_MS || done === total) {
      this.console.io.err(text + "\n");
      this.lastLineAt = Date.now();
    }
  }

  /** End the redrawn line so the next output starts on a fresh one. */
  done(): void {
    if (this.drawn) this.console.io.err("\n");
    this.drawn = false;
  }

  private format(done: number, total: number | null, unit: string): string {
    const seconds = (Date.now() - this.startedAt) / 1000;
    const rate = seconds > 0 ? ` ${(done / seconds).toFixed(1)} ${unit}/s` : "";
    if (total === null || total === 0) return `${this.label} ${done} ${unit}${rate}`;
    const filled = Math.round((BAR_WIDTH * Math.min(done, total)) / total);
    const bar = "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled);
    return `${this.label} [${bar}] ${done}/${total} ${unit}${rate}`;
  }
}

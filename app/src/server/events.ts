/**
 * The live stream: server-sent events, one JSON StudioEvent per message. A new subscriber first gets the
 * whole picture (the run list), then every change; a comment every 15 s keeps proxies from closing it.
 */
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";

const KEEPALIVE_MS = 15_000;

/** A fan-out of events to whoever listens now. */
export class Hub<T> {
  private readonly listeners = new Set<(event: T) => void>();

  publish(event: T): void {
    for (const listener of this.listeners) listener(event);
  }

  subscribe(listener: (event: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get size(): number {
    return this.listeners.size;
  }
}

export function eventStream<T>(c: Context, hub: Hub<T>, snapshot: () => T): Response {
  return streamSSE(c, async (stream) => {
    let closed = false;
    const pending: T[] = [snapshot()];
    let wake: (() => void) | undefined;
    const unsubscribe = hub.subscribe((event) => {
      pending.push(event);
      wake?.();
    });
    stream.onAbort(() => {
      closed = true;
      wake?.();
    });
    const keepalive = setInterval(() => {
      void stream.write(": keepalive\n\n");
    }, KEEPALIVE_MS);
    try {
      while (!closed) {
        for (let event = pending.shift(); event !== undefined; event = pending.shift())
          await stream.writeSSE({ data: JSON.stringify(event) });
        if (!closed) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      clearInterval(keepalive);
      unsubscribe();
    }
  });
}

/**
 * The live picture of the studio, fed by its event stream: every run's summary, which one trains, and the
 * log lines of each run. One EventSource for the whole page; views subscribe with `useLive()`.
 */
import { useEffect, useState } from "preact/hooks";
import { StudioEvent, type RunSummary } from "../../src/protocol/studio.js";

const MAX_LOG_LINES = 200;

export interface LiveState {
  connected: boolean;
  runs: RunSummary[];
  active: string | null;
  logs: Record<string, string[]>;
}

let state: LiveState = { connected: false, runs: [], active: null, logs: {} };
const listeners = new Set<(s: LiveState) => void>();
let source: EventSource | undefined;

function set(next: LiveState): void {
  state = next;
  listeners.forEach((listener) => listener(state));
}

function apply(event: StudioEvent): void {
  switch (event.type) {
    case "runs":
      set({ ...state, runs: event.runs, active: event.active });
      return;
    case "run": {
      const known = state.runs.some((r) => r.id === event.run.id);
      const runs = known
        ? state.runs.map((r) => (r.id === event.run.id ? event.run : r))
        : [event.run, ...state.runs];
      set({ ...state, runs });
      return;
    }
    case "log": {
      const lines = [
        ...(state.logs[event.id] ?? []),
        `${event.level === "info" ? "" : event.level + ": "}${event.message}`,
      ];
      set({ ...state, logs: { ...state.logs, [event.id]: lines.slice(-MAX_LOG_LINES) } });
      return;
    }
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

function connect(): void {
  if (source) return;
  source = new EventSource("/api/events");
  source.onopen = () => set({ ...state, connected: true });
  source.onerror = () => set({ ...state, connected: false }); // EventSource reconnects by itself
  source.onmessage = (message: MessageEvent<string>) => {
    let data: unknown;
    try {
      data = JSON.parse(message.data);
    } catch {
      return;
    }
    const parsed = StudioEvent.safeParse(data);
    if (parsed.success) apply(parsed.data);
  };
}

export function useLive(): LiveState {
  const [current, setCurrent] = useState(state);
  useEffect(() => {
    connect();
    listeners.add(setCurrent);
    setCurrent(state);
    return () => void listeners.delete(setCurrent);
  }, []);
  return current;
}

export function runById(live: LiveState, id: string): RunSummary | undefined {
  return live.runs.find((r) => r.id === id);
}

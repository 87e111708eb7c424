/**
 * One run's lifecycle as a single state moved by named events (the reducer), so the CLI, the run folder
 * and later the studio agree on what a run is doing.
 */
import type { JobEvent } from "../protocol/messages.js";

export type RunStatus = "running" | "succeeded" | "failed" | "cancelled";

export interface RunState {
  status: RunStatus;
  kind: string;
  created_at: string;
  finished_at: string | null;
  progress: { done: number; total: number | null; unit: string } | null;
  metrics: Record<string, { value: number; step: number | null }>;
  artifacts: { path: string; kind: string; description: string | null }[];
  result: unknown;
  error: { code: string; message: string } | null;
}

/** What can happen to a run: an event of its engine job, or how the job ended. */
export type RunEvent =
  JobEvent | { type: "succeeded"; result: unknown } | { type: "failed"; code: string; message: string };

export function initialRunState(kind: string, now: Date): RunState {
  return {
    status: "running",
    kind,
    created_at: now.toISOString(),
    finished_at: null,
    progress: null,
    metrics: {},
    artifacts: [],
    result: null,
    error: null,
  };
}

export function reduceRun(state: RunState, event: RunEvent, now: Date): RunState {
  if (state.status !== "running") return state; // a finished run does not change
  switch (event.type) {
    case "progress":
      return { ...state, progress: { done: event.done, total: event.total, unit: event.unit } };
    case "metric":
      return {
        ...state,
        metrics: { ...state.metrics, [event.name]: { value: event.value, step: event.step } },
      };
    case "artifact":
      return {
        ...state,
        artifacts: [
          ...state.artifacts,
          { path: event.path, kind: event.kind, description: event.description },
        ],
      };
    case "log":
      return state;
    case "succeeded":
      return { ...state, status: "succeeded", finished_at: now.toISOString(), result: event.result };
    case "failed":
      return {
        ...state,
        status: event.code === "cancelled" ? "cancelled" : "failed",
        finished_at: now.toISOString(),
        error: { code: event.code, message: event.message },
      };
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

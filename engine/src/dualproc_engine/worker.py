"""The protocol end of the engine: reads jobs as JSON lines on stdin, writes events as JSON lines on stdout.

One job runs at a time on the main thread; a reader thread takes cancel and shutdown messages while a job
runs. Anything else that writes to stdout (a library's print, a progress bar) is sent to stderr instead, so
the event stream stays parseable.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import traceback
from typing import IO, Any

from . import protocol
from .errors import JobCancelled, UserError
from .reporting import Reporter


class EventWriter:
    """Writes one event per line to the protocol channel; safe to call from any thread."""

    def __init__(self, stream: IO[str]):
        self._stream = stream
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> None:
        # An event the app would reject is an engine bug: fail the job loudly here rather than have the app
        # drop the event as stray output.
        problem = protocol.validation_error("event", event)
        if problem:
            raise ValueError(f"the engine emitted an invalid {event.get('type')} event: {problem}")
        line = json.dumps(event, separators=(",", ":"), allow_nan=False)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


class EventReporter(Reporter):
    """Sends a job's progress, metrics, artifacts and logs as protocol events."""

    def __init__(self, job: str, emit: EventWriter, cancelled: threading.Event):
        super().__init__(should_stop=cancelled.is_set)
        self._job, self._emit = job, emit

    def on_progress(self, done: int, total: int | None, unit: str, message: str | None) -> None:
        self._emit(protocol.progress(self._job, done, total, unit, message))

    def on_metric(self, name: str, value: float, step: int | None) -> None:
        self._emit(protocol.metric(self._job, name, value, step))

    def on_artifact(self, path: str, kind: str, description: str | None) -> None:
        self._emit(protocol.artifact(self._job, path, kind, description))

    def on_log(self, level: str, message: str) -> None:
        self._emit(protocol.log(self._job, level, message))


class Worker:
    def __init__(self, stdin: IO[str], emit: EventWriter):
        self._stdin, self._emit = stdin, emit
        self._jobs: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._cancelled: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def serve(self) -> None:
        self._emit(protocol.ready())
        threading.Thread(target=self._read_requests, name="protocol-reader", daemon=True).start()
        while (job := self._jobs.get()) is not None:
            self._run(job)

    def _read_requests(self) -> None:
        for line in self._stdin:
            if line.strip():
                self._accept(line)
        self._jobs.put(None)  # stdin closed: finish queued work, then exit

    def _accept(self, line: str) -> None:
        try:
            message = json.loads(line)
        except json.JSONDecodeError as e:
            self._emit(protocol.error(None, "bad_request", f"not JSON: {e.msg} at column {e.colno}"))
            return
        problem = protocol.validation_error("request", message)
        if problem:
            self._emit(protocol.error(_job_id_of(message), "bad_request", problem))
        elif message["type"] == "job":
            with self._lock:
                self._cancelled[message["id"]] = threading.Event()
            self._jobs.put(message)
        elif message["type"] == "cancel":
            with self._lock:
                flag = self._cancelled.get(message["id"])
            if flag is not None:
                flag.set()
        elif message["type"] == "shutdown":
            self._jobs.put(None)

    def _run(self, job: dict[str, Any]) -> None:
        from .jobs import HANDLERS

        job_id, kind = job["id"], job["kind"]
        with self._lock:
            cancelled = self._cancelled[job_id]
        try:
            if cancelled.is_set():
                raise JobCancelled()
            value = HANDLERS[kind](**job["params"], reporter=EventReporter(job_id, self._emit, cancelled))
            self._emit(protocol.result(job_id, kind, value))
        except JobCancelled:
            self._emit(protocol.error(job_id, "cancelled", f"{kind} job {job_id} was cancelled"))
        except UserError as e:
            self._emit(protocol.error(job_id, e.code, str(e)))
        except Exception as e:
            traceback.print_exc(file=sys.stderr)
            self._emit(protocol.error(job_id, _code_for(e), f"{type(e).__name__}: {e}"))
        finally:
            with self._lock:
                self._cancelled.pop(job_id, None)


def _job_id_of(message: Any) -> str | None:
    """The id of a rejected job, when it has a usable one, so the app can tell which request failed."""
    job_id = message.get("id") if isinstance(message, dict) else None
    return job_id if isinstance(job_id, str) else None


def _code_for(e: Exception) -> str:
    return "out_of_memory" if "out of memory" in str(e).lower() else "internal"


def main() -> None:
    # Keep the real stdout for events and point fd 1 (and sys.stdout) at stderr, so nothing else can
    # interleave a stray line into the protocol stream, not even C code writing to fd 1.
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    Worker(sys.stdin, EventWriter(channel)).serve()


if __name__ == "__main__":
    main()

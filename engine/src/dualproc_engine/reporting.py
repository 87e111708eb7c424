"""How long-running engine functions report progress, metrics and artifacts, and learn they were cancelled.

Library callers pass nothing and get the silent `Reporter()`; the worker passes one that writes protocol
events. Functions call `reporter.progress(...)` at safe points; that is also where cancellation is noticed,
so a cancelled job stops between two consistent states (never halfway through writing a file).
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import JobCancelled


class Reporter:
    """Silent reporter for library use; subclasses send the events somewhere."""

    def __init__(self, should_stop: Callable[[], bool] | None = None):
        self._should_stop = should_stop or (lambda: False)

    def should_stop(self) -> bool:
        """Whether the job was asked to stop; for loops that save a checkpoint before they stop."""
        return self._should_stop()

    def check_cancelled(self) -> None:
        if self._should_stop():
            raise JobCancelled()

    def progress(self, done: int, total: int | None, unit: str, message: str | None = None) -> None:
        self.check_cancelled()
        self.on_progress(done, total, unit, message)

    def metric(self, name: str, value: float, step: int | None = None) -> None:
        self.on_metric(name, float(value), step)

    def artifact(self, path: str, kind: str, description: str | None = None) -> None:
        self.on_artifact(path, kind, description)

    def log(self, level: str, message: str) -> None:
        self.on_log(level, message)

    # Hooks for subclasses: the default reporter drops everything.
    def on_progress(self, done: int, total: int | None, unit: str, message: str | None) -> None: ...
    def on_metric(self, name: str, value: float, step: int | None) -> None: ...
    def on_artifact(self, path: str, kind: str, description: str | None) -> None: ...
    def on_log(self, level: str, message: str) -> None: ...


class LogRecorder(Reporter):
    """A reporter that keeps the job's log lines as (level, message): warnings as data for library use."""

    def __init__(self, should_stop: Callable[[], bool] | None = None):
        super().__init__(should_stop)
        self.lines: list[tuple[str, str]] = []

    def on_log(self, level: str, message: str) -> None:
        self.lines.append((level, message))

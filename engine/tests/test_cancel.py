"""Cancellation inside the worker: a job stops at its next progress point and the worker goes on."""

import io
import json
import os
import threading
from typing import Any

from dualproc_engine import jobs
from dualproc_engine.reporting import Reporter
from dualproc_engine.worker import EventWriter, Worker


def test_cancel_stops_a_running_job_at_its_next_progress_point(monkeypatch) -> None:
    started = threading.Event()

    def endless(reporter: Reporter) -> dict[str, Any]:
        step = 0
        while True:  # only cancellation ends this job
            reporter.progress(step, None, "steps")
            started.set()
            step += 1

    monkeypatch.setitem(jobs.HANDLERS, "models", endless)
    read_fd, write_fd = os.pipe()
    requests = os.fdopen(write_fd, "w", buffering=1)
    events_out = io.StringIO()
    worker = Worker(os.fdopen(read_fd), EventWriter(events_out))
    serving = threading.Thread(target=worker.serve)
    serving.start()

    requests.write(json.dumps({"type": "job", "id": "long", "kind": "models", "params": {}}) + "\n")
    assert started.wait(10)
    requests.write(json.dumps({"type": "cancel", "id": "long"}) + "\n")
    monkeypatch.setitem(jobs.HANDLERS, "models", lambda reporter: {"models": []})
    requests.write(json.dumps({"type": "job", "id": "next", "kind": "models", "params": {}}) + "\n")
    requests.close()
    serving.join(10)
    assert not serving.is_alive()

    events = [json.loads(line) for line in events_out.getvalue().splitlines()]
    ends = [e for e in events if e["type"] in ("result", "error")]
    assert [(e["job"], e.get("code")) for e in ends] == [("long", "cancelled"), ("next", None)]
    assert any(e["type"] == "progress" and e["job"] == "long" for e in events)


def test_library_reporter_is_silent_and_never_cancels() -> None:
    reporter = Reporter()
    reporter.progress(1, 2, "images")
    reporter.metric("loss", 0.5)
    reporter.check_cancelled()

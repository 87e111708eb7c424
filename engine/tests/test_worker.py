"""The worker as a process: handshake, real jobs, protocol errors, stray output, shutdown."""

import json
import subprocess
import sys
import threading
from typing import Any

import pytest

from dualproc_engine import protocol


def run_worker(*requests: dict[str, Any] | str, timeout: float = 60) -> list[dict[str, Any]]:
    lines = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in requests)
    done = subprocess.run(
        [sys.executable, "-m", "dualproc_engine.worker"],
        input=lines,
        text=True,
        capture_output=True,
        timeout=timeout,
        check=True,
    )
    events = [json.loads(line) for line in done.stdout.splitlines()]
    for event in events:
        assert protocol.validation_error("event", event) is None, event
    return events


def test_models_job_round_trip() -> None:
    events = run_worker({"type": "job", "id": "m", "kind": "models", "params": {}})
    assert events[0]["type"] == "ready"
    (result,) = [e for e in events if e["type"] == "result"]
    names = {m["name"] for m in result["result"]["models"]}
    assert {"flux-schnell", "qwen2.5-vl-7b", "scenes-judge"} <= names


def test_malformed_lines_get_errors_and_the_worker_goes_on() -> None:
    events = run_worker(
        "not json",
        {"type": "job", "id": "x", "kind": "paint", "params": {}},
        {"type": "job", "id": "d", "kind": "doctor", "params": {}},
    )
    errors = [e for e in events if e["type"] == "error"]
    assert [e["code"] for e in errors] == ["bad_request", "bad_request"]
    assert errors[1]["job"] == "x"
    assert any(e["type"] == "result" and e["job"] == "d" for e in events)


def test_shutdown_stops_before_later_jobs() -> None:
    events = run_worker({"type": "shutdown"}, {"type": "job", "id": "late", "kind": "models", "params": {}})
    assert [e["type"] for e in events] == ["ready"]


NOISY_WORKER = """
import os
from dualproc_engine import api, jobs, worker

def noisy_models(reporter=None):
    print("a library printing to stdout")
    os.write(1, b"C code writing to fd 1\\n")
    return api.list_models()

jobs.HANDLERS["models"] = noisy_models
worker.main()
"""


def test_stray_stdout_goes_to_stderr_not_into_the_event_stream() -> None:
    request = json.dumps({"type": "job", "id": "m", "kind": "models", "params": {}}) + "\n"
    done = subprocess.run(
        [sys.executable, "-c", NOISY_WORKER],
        input=request,
        text=True,
        capture_output=True,
        timeout=60,
        check=True,
    )
    events = [json.loads(line) for line in done.stdout.splitlines()]  # every stdout line is an event
    assert [e["type"] for e in events] == ["ready", "result"]
    assert "a library printing to stdout" in done.stderr
    assert "C code writing to fd 1" in done.stderr


def test_an_invalid_event_from_a_job_fails_the_job_instead_of_vanishing() -> None:
    import io

    from dualproc_engine.worker import EventReporter, EventWriter

    out = io.StringIO()
    reporter = EventReporter("j", EventWriter(out), threading.Event())
    reporter.artifact("model.safetensors", "weights", None)
    with pytest.raises(ValueError, match="invalid artifact event: kind"):
        reporter.artifact("model.safetensors", "lora", None)
    assert len(out.getvalue().splitlines()) == 1

"""Job kinds the worker accepts: each is an API function called with the job's params as keyword arguments.

The API's parameter names are the protocol's field names, so there is no translation layer to keep in step;
tests/test_protocol.py checks every kind's params against its function's signature.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import api

Handler = Callable[..., dict[str, Any]]

HANDLERS: dict[str, Handler] = {
    "models": api.list_models,
    "doctor": api.doctor,
    "render": api.render_scenes,
    "qa": api.make_qa_set,
    "ask": api.ask,
    "generate": api.generate,
    "train_judge": api.train_judge,
    "judge_pool": api.judge_pool,
    "train_generator": api.train_generator,
    "teach": api.teach,
    "bench_teach": api.bench_teach,
    "evaluate": api.evaluate,
    "readings": api.read_questions,
}

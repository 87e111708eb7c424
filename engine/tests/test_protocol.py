"""The engine validates the shared protocol examples exactly as the app does."""

import json
from pathlib import Path

import pytest

from dualproc_engine import protocol

EXAMPLES = Path(__file__).resolve().parents[2] / "protocol" / "examples"


def _examples(folder: str) -> list[Path]:
    paths = sorted((EXAMPLES / folder).glob("*.json"))
    assert paths, f"no examples in {folder}"
    return paths


def _schema_for(path: Path) -> str:
    return "request" if path.name.startswith("request") else "event"


@pytest.mark.parametrize("path", _examples("valid"), ids=lambda p: p.stem)
def test_valid_examples_validate_and_round_trip(path: Path) -> None:
    message = json.loads(path.read_text())
    assert protocol.validation_error(_schema_for(path), message) is None
    assert json.loads(json.dumps(message)) == message


@pytest.mark.parametrize("path", _examples("invalid"), ids=lambda p: p.stem)
def test_invalid_examples_are_rejected_with_one_line(path: Path) -> None:
    problem = protocol.validation_error(_schema_for(path), json.loads(path.read_text()))
    assert problem is not None
    assert "\n" not in problem


def test_unknown_kind_names_the_allowed_kinds() -> None:
    problem = protocol.validation_error("request", {"type": "job", "id": "j", "kind": "paint", "params": {}})
    assert problem is not None and problem.startswith("kind: 'paint' is not one of ")
    assert {"models", "render", "qa", "ask", "generate"} <= set(problem.split("one of ")[1].split(", "))


def test_bad_value_names_its_field() -> None:
    job = {
        "type": "job",
        "id": "r",
        "kind": "render",
        "params": {"n": 0, "seed": 0, "size_px": 64, "kind": None, "out_dir": "x"},
    }
    problem = protocol.validation_error("request", job)
    assert problem is not None and problem.startswith("params/n:")


def test_event_constructors_follow_the_schema() -> None:
    events = [
        protocol.ready(),
        protocol.progress("j", 1, 2, "images", None),
        protocol.metric("j", "loss", 0.5, 3),
        protocol.artifact("j", "a.png", "image", None),
        protocol.log(None, "info", "hello"),
        protocol.error("j", "internal", "boom\nwith a second line"),
    ]
    for event in events:
        assert protocol.validation_error("event", event) is None, event
    assert protocol.error("j", "internal", "a\nb")["message"] == "a b"


def _job_params_by_kind() -> dict[str, set[str]]:
    schema = json.loads((protocol.schema_dir() / "request.schema.json").read_text())
    return {
        leaf["properties"]["kind"]["const"]: set(leaf["properties"]["params"]["properties"])
        for leaf in protocol._leaf_schemas(schema)
        if "kind" in leaf.get("properties", {})
    }


def test_every_job_kind_in_the_protocol_has_a_handler_and_no_more() -> None:
    from dualproc_engine.jobs import HANDLERS

    assert set(_job_params_by_kind()) == set(HANDLERS)


def test_each_handler_takes_exactly_its_jobs_params_and_a_reporter() -> None:
    import inspect

    from dualproc_engine.jobs import HANDLERS

    for kind, params in _job_params_by_kind().items():
        signature = inspect.signature(HANDLERS[kind])
        assert set(signature.parameters) == params | {"reporter"}, kind
        required = {n for n, p in signature.parameters.items() if p.default is inspect.Parameter.empty}
        assert required <= params, kind

"""The engine's end of the wire protocol: schema loading, validation and event construction.

The schemas are generated from the app's definitions (app/src/protocol/messages.ts) into protocol/schemas;
this module only reads them, so the two sides cannot drift apart silently.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from . import PROTOCOL_VERSION, __version__


def schema_dir() -> Path:
    """protocol/schemas of this checkout, or DUALPROC_PROTOCOL_DIR when the engine lives elsewhere."""
    override = os.environ.get("DUALPROC_PROTOCOL_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "protocol" / "schemas"


@cache
def _schema(name: str) -> dict[str, Any]:
    path = schema_dir() / f"{name}.schema.json"
    if not path.is_file():
        raise FileNotFoundError(f"protocol schema {path} not found; set DUALPROC_PROTOCOL_DIR")
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


def validation_error(kind: str, message: Any) -> str | None:
    """One line saying why `message` is not a valid `kind` ('request' or 'event'), or None if it is.

    The schemas are tagged unions, so first find the branch the sender meant by its tags ('type', then
    'kind') and then report that branch's first problem: "params/n: -1 is less than the minimum of 1" says
    more than "not valid under any of the given schemas".
    """
    from jsonschema import Draft202012Validator

    if not isinstance(message, dict):
        return "(message): expected a JSON object"
    branches = _leaf_schemas(_schema(kind))
    for tag in ("type", "kind"):
        allowed = [b["properties"][tag]["const"] for b in branches if "const" in b["properties"].get(tag, {})]
        if not allowed:
            continue
        if message.get(tag) not in allowed:
            return f"{tag}: {message.get(tag)!r} is not one of {', '.join(sorted(set(allowed)))}"
        branches = [b for b in branches if b["properties"].get(tag, {}).get("const") == message[tag]]
    error = next(iter(Draft202012Validator(branches[0]).iter_errors(message)), None)
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "(message)"
    return f"{where}: {error.message}"


def _leaf_schemas(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The object schemas of a (nested) anyOf/oneOf union."""
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives is None:
        return [schema]
    return [leaf for alt in alternatives for leaf in _leaf_schemas(alt)]


# --- events: one constructor each, so the field names live in one place on this side -----------------


def ready() -> dict[str, Any]:
    return {
        "type": "ready",
        "engine_version": __version__,
        "protocol_version": PROTOCOL_VERSION,
        "pid": os.getpid(),
    }


def progress(job: str, done: int, total: int | None, unit: str, message: str | None) -> dict[str, Any]:
    return {"type": "progress", "job": job, "done": done, "total": total, "unit": unit, "message": message}


def metric(job: str, name: str, value: float, step: int | None) -> dict[str, Any]:
    return {"type": "metric", "job": job, "name": name, "value": value, "step": step}


def artifact(job: str, path: str, kind: str, description: str | None) -> dict[str, Any]:
    return {"type": "artifact", "job": job, "path": path, "kind": kind, "description": description}


def log(job: str | None, level: str, message: str) -> dict[str, Any]:
    return {"type": "log", "job": job, "level": level, "message": message}


def result(job: str, kind: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"type": "result", "job": job, "kind": kind, "result": value}


def error(job: str | None, code: str, message: str) -> dict[str, Any]:
    one_line = " ".join(message.split()) or code
    return {"type": "error", "job": job, "code": code, "message": one_line}

"""Job kinds the worker accepts, each a thin call into the Python API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import api
from .reporting import Reporter

Handler = Callable[[dict[str, Any], Reporter], dict[str, Any]]


def _models(params: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    return api.list_models()


def _doctor(params: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    return api.doctor()


def _render(params: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    return api.render_scenes(
        params["n"],
        params["seed"],
        params["size_px"],
        params["out_dir"],
        kind=params["kind"],
        reporter=reporter,
    )


def _qa(params: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    return api.make_qa_set(
        params["n"],
        params["seed"],
        params["size_px"],
        params["out_dir"],
        kind=params["kind"],
        families=params["families"],
        per_scene=params["per_scene"],
        phrasing_split=params["phrasing_split"],
        overlay_images=params["overlay_images"],
        reporter=reporter,
    )


def _ask(params: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    return api.ask(params["images"], params["question"], params["answer"], params["overlay"], params["judge"])


def _generate(params: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    return api.generate(
        params["prompt"],
        params["n"],
        params["seed"],
        params["out_dir"],
        num_inference_steps=params["num_inference_steps"],
        generator=params["generator"],
        reporter=reporter,
    )


def _train_judge(params: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    return api.train_judge(
        params["out_dir"],
        seed=params["seed"],
        max_train_steps=params["max_train_steps"],
        phrasing_split=params["phrasing_split"],
        vision=params["vision"],
        reporter=reporter,
    )


def _train_generator(params: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    return api.train_generator(
        params["out_dir"], seed=params["seed"], max_train_steps=params["max_train_steps"], reporter=reporter
    )


def _teach(params: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    return api.teach(
        params["recipe"],
        params["out_dir"],
        recipe_dir=params["recipe_dir"],
        resume=params["resume"],
        reporter=reporter,
    )


def _bench_teach(params: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    return api.bench_teach(params["steps"])


HANDLERS: dict[str, Handler] = {
    "models": _models,
    "doctor": _doctor,
    "render": _render,
    "qa": _qa,
    "ask": _ask,
    "generate": _generate,
    "train_judge": _train_judge,
    "train_generator": _train_generator,
    "teach": _teach,
    "bench_teach": _bench_teach,
}

"""One teach step: LoRA changes, base weights stay bit-identical, every LoRA tensor gets a gradient,
checkpointing on == off, the K-step window, shared judge work == one judge pass per question."""

from __future__ import annotations

import random

import pytest
import torch
from conftest import PROMPT, BrightnessJudge, recipe

from dualproc_engine.teach import adapters
from dualproc_engine.teach.config import parse_recipe
from dualproc_engine.teach.loop import build_run, teach
from dualproc_engine.teach.path import draw_window
from dualproc_engine.teach.questions import QuestionSet
from dualproc_engine.teach.step import micro_batch_loss

HORIZON = {
    "question": "Is the red line aligned with the horizon?",
    "weight": 0.5,
    "visual_prompt": {"kind": "horizon", "y": 0.7},
}


def _base_state(gen) -> dict[str, torch.Tensor]:
    # peft renames a wrapped layer's weight to `<layer>.base_layer.weight`: compare under the original name
    unet = {
        f"unet.{n.replace('.base_layer', '')}": p.detach().clone()
        for n, p in gen.unet.named_parameters()
        if "lora_" not in n
    }
    text = {f"text.{n}": p.detach().clone() for n, p in gen.text_encoder.named_parameters()}
    return unet | text


def _lora(gen) -> list[torch.Tensor]:
    return [p.detach().clone() for p in gen.lora_parameters()]


def test_one_step_changes_the_lora_and_leaves_base_weights_bit_identical(
    make_generator, tiny_judge, tmp_path
):
    gen, reference = make_generator(), make_generator()
    base_before = _base_state(gen)
    teach(recipe(max_train_steps=1), tmp_path, generator=gen, judge=tiny_judge)

    torch.manual_seed(0)  # the same seeded init the run used
    adapters.attach_lora(reference, 4, 4, None)
    assert len(_lora(gen)) == len(_lora(reference)) > 0
    changed = [not torch.equal(a, b) for a, b in zip(_lora(gen), _lora(reference), strict=True)]
    # with peft's gaussian init lora_B starts at 0, so after one step every B has moved
    assert sum(changed) >= len(changed) // 2
    base_after = _base_state(gen)
    assert base_before.keys() == base_after.keys()
    assert all(torch.equal(base_before[k], base_after[k]) for k in base_before)
    assert not any(p.requires_grad for p in gen.text_encoder.parameters())


def _run(gen, judge, **training):
    r = recipe(**training)
    r["questions"].append(HORIZON)
    cfg = parse_recipe(r)
    return build_run(cfg, gen, QuestionSet(judge, cfg.questions), torch.device("cpu"))


def _grads(run, seed: int = 0) -> list[torch.Tensor]:
    with torch.no_grad():  # nonzero lora_B, so that lora_A's gradient is not zero by construction
        g = torch.Generator().manual_seed(1)
        for p in run.params:
            p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    run.optimizer.zero_grad(set_to_none=True)
    loss = micro_batch_loss(run, random.Random(seed)).judge_loss
    loss.backward()
    return [p.grad.clone() for p in run.params]


@pytest.mark.parametrize("steps,backprop", [(1, 1), (2, 2)])
def test_every_lora_parameter_gets_a_gradient(make_generator, tiny_judge, steps, backprop):
    run = _run(make_generator(), tiny_judge, num_inference_steps=steps, backprop_steps=backprop)
    grads = _grads(run)
    assert all(g.abs().sum() > 0 for g in grads)
    assert all(p.grad is None for n, p in run.gen.unet.named_parameters() if "lora_" not in n)


def test_gradient_checkpointing_on_and_off_give_the_same_gradients(make_generator, tiny_judge, monkeypatch):
    off = _grads(_run(make_generator(), tiny_judge, num_inference_steps=2, backprop_steps=2))

    forward, recomputed = [0], [0]
    original = torch.utils.checkpoint.checkpoint

    def counting(fn, *args, **kwargs):  # diffusers and transformers both call torch.utils.checkpoint
        forward[0] += 1
        calls = [0]

        def wrapped(*a, **k):
            calls[0] += 1
            if calls[0] > 1:
                recomputed[0] += 1
            return fn(*a, **k)

        return original(wrapped, *args, **kwargs)

    monkeypatch.setattr(torch.utils.checkpoint, "checkpoint", counting)
    on_run = _run(
        make_generator(), tiny_judge, num_inference_steps=2, backprop_steps=2, gradient_checkpointing=True
    )
    on = _grads(on_run)
    for a, b in zip(off, on, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    assert forward[0] > 0 and recomputed[0] > 0  # generator, decoder and judge layers ran again in backward
    assert not tiny_judge.model.is_activation_checkpointing  # switched off again after the forward
    assert not on_run.gen.unet.is_gradient_checkpointing


def test_backprop_window_is_k_consecutive_steps_drawn_uniformly():
    rng = random.Random(0)
    starts = {draw_window(4, 2, rng)[0] for _ in range(200)}
    assert starts == {0, 1, 2}
    assert all(draw_window(4, 2, rng) == [s, s + 1] for s in [draw_window(4, 2, random.Random(3))[0]])
    assert draw_window(1, 1, rng) == [0]
    # K = 1 draws exactly as the reference's randrange(N)
    assert [draw_window(5, 1, random.Random(7))[0]] == [random.Random(7).randrange(5)]


def test_shared_judge_work_equals_one_judge_pass_per_question(tiny_judge):
    cfg = parse_recipe(
        {
            "prompts": [PROMPT],
            "questions": [
                {"question": "Is the horizon low in the image?"},
                HORIZON,
                {"question": "Is it night?", "answer": "No"},
                {**HORIZON, "question": "Is the horizon near the red line?"},
            ],
        }
    )
    qs = QuestionSet(tiny_judge, cfg.questions)
    assert len(qs.groups) == 2  # plain and horizon-line: two pictures for four questions
    images = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(qs.logprob(images), qs.reference_logprob(images), rtol=1e-5, atol=1e-5)
    plain = QuestionSet(tiny_judge, cfg.questions, shared=False)  # a judge with only the contract
    torch.testing.assert_close(plain.logprob(images), qs.reference_logprob(images), rtol=1e-5, atol=1e-5)


def test_contract_only_judge_trains(make_generator, tmp_path):
    judge = BrightnessJudge()
    out = teach(recipe(max_train_steps=2), tmp_path, generator=make_generator(), judge=judge)
    assert out["steps"] == 2 and judge.calls >= 2


def test_bench_compares_both_ways_on_the_same_models(make_generator, tiny_judge):
    from dualproc_engine.teach.bench import bench

    result = bench(steps=1, generator=make_generator(), judge=tiny_judge)
    assert result["questions"] == 4 and result["pictures"] == 2
    assert result["ours"]["steps_per_s"] > 0 and result["reference"]["steps_per_s"] > 0
    assert result["speedup"] > 0


@pytest.mark.parametrize("parts", [["generator"], ["decoder"], ["judge"], ["decoder", "judge"]])
def test_checkpointing_named_parts_checkpoints_those_alone(make_generator, tiny_judge, monkeypatch, parts):
    from dualproc_engine.teach import path, step
    from dualproc_engine.teach.adapters import decode

    seen: dict[str, bool] = {}  # what the taught run (the second) checkpointed
    images_with_grad, judge_checkpointing = path.images_with_grad, step.judge_checkpointing

    def spying_images(gen, *args):
        out = images_with_grad(gen, *args)
        seen["generator"] = "generator" in args[-1]
        return out

    def spying_decode(gen, latents, checkpointing):
        seen["decoder"] = checkpointing
        return decode(gen, latents, checkpointing)

    def spying_judge(judge, enabled):
        seen["judge"] = enabled
        return judge_checkpointing(judge, enabled)

    monkeypatch.setattr(step, "images_with_grad", spying_images)
    monkeypatch.setattr(path, "decode", spying_decode)
    monkeypatch.setattr(step, "judge_checkpointing", spying_judge)
    off = _grads(_run(make_generator(), tiny_judge, num_inference_steps=2, backprop_steps=2))
    on_run = _run(
        make_generator(), tiny_judge, num_inference_steps=2, backprop_steps=2, gradient_checkpointing=parts
    )
    assert on_run.checkpointing == frozenset(parts)
    on = _grads(on_run)
    assert seen == {part: part in parts for part in ("generator", "decoder", "judge")}
    for a, b in zip(off, on, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)

"""Where a teach step's time goes on the embedded models: the generator's differentiable call, the judge
part our way (shared vision pass, batched questions) and the reference's way (one full pass per question).
The speed-up `dualproc bench teach` can show is bounded by (generator + reference judge) / generator.

    cd engine && python studies/teach_step_parts.py
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

from dualproc_engine.teach.bench import QUESTIONS, random_models
from dualproc_engine.teach.config import Question
from dualproc_engine.teach.questions import QuestionSet


def milliseconds(step: Callable[[], None], repeats: int = 20) -> float:
    step()  # warm-up
    started = time.perf_counter()
    for _ in range(repeats):
        step()
    return (time.perf_counter() - started) / repeats * 1000


def main() -> None:
    torch.set_num_threads(1)
    gen, judge = random_models()
    questions = QuestionSet(judge, [Question(**q) for q in QUESTIONS])  # type: ignore[arg-type]
    embeds = gen.encode_prompt(["a sunny landscape with trees"])
    gen.add_lora(8, 8)
    noise = gen.make_noise(1, 0)
    image = gen.sample(embeds, noise, 1).detach().requires_grad_(True)

    def generator_only() -> None:
        gen.sample(embeds, noise, 1, grad_steps=[0]).mean().backward()

    def judge_ours() -> None:
        (-questions.logprob(image).mean()).backward()

    def judge_reference() -> None:
        (-questions.reference_logprob(image).mean()).backward()

    def step_ours() -> None:
        (-questions.logprob(gen.sample(embeds, noise, 1, grad_steps=[0])).mean()).backward()

    def step_reference() -> None:
        (-questions.reference_logprob(gen.sample(embeds, noise, 1, grad_steps=[0])).mean()).backward()

    for name, step in [
        ("generator forward+backward", generator_only),
        ("judge, ours", judge_ours),
        ("judge, reference's way", judge_reference),
        ("whole step, ours", step_ours),
        ("whole step, reference's way", step_reference),
    ]:
        print(f"{name}: {milliseconds(step):.1f} ms")


if __name__ == "__main__":
    main()

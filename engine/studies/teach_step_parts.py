"""Where a teach step's time goes on the embedded models: the generator's differentiable call, the judge
part our way (shared vision pass, batched questions) and the reference's way (one full pass per question).
The speed-up `dualproc bench teach` can show is bounded by (generator + reference judge) / generator.

    cd engine && python studies/teach_step_parts.py
"""

import time

import torch

torch.set_num_threads(1)
from dualproc_engine.teach.bench import QUESTIONS, random_models
from dualproc_engine.teach.config import Question
from dualproc_engine.teach.questions import QuestionSet

gen, judge = random_models()
qs = QuestionSet(judge, [Question(**q) for q in QUESTIONS])
emb = gen.encode_prompt(["a sunny landscape with trees"])
gen.add_lora(8, 8)
noise = gen.make_noise(1, 0)


def timeit(f, n=20):
    f()
    t = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - t) / n * 1000


def gen_only():
    img = gen.sample(emb, noise, 1, grad_steps=[0])
    img.mean().backward()


def full():
    img = gen.sample(emb, noise, 1, grad_steps=[0])
    (-qs.logprob(img).mean()).backward()


def ref():
    img = gen.sample(emb, noise, 1, grad_steps=[0])
    (-qs.reference_logprob(img).mean()).backward()


img0 = gen.sample(emb, noise, 1).detach().requires_grad_(True)


def judge_only():
    (-qs.logprob(img0).mean()).backward()


def judge_ref():
    (-qs.reference_logprob(img0).mean()).backward()


print("gen fwd+bwd ms", round(timeit(gen_only), 1))
print("judge ours ms", round(timeit(judge_only), 1), "judge ref ms", round(timeit(judge_ref), 1))
print("full ours ms", round(timeit(full), 1), "full ref ms", round(timeit(ref), 1))

"""`bench teach --scale full|tiny`: the teach loop on FLUX.1-schnell + Qwen2.5-VL-7B built from their configs.

`full` builds both at their published sizes (`bench_configs.py`) with random weights, in bf16 on CUDA, draws
512 px images in one step and times our loop (shared judge work, gradient checkpointing of the transformer,
decoder and judge) against the reference's (one full judge pass per question, no checkpointing) at 1 and 4
questions, then at 4 with our loop not checkpointing. `tiny` is the same code on tiny configs (float32 on a
CPU), for tests. Tokenizers are built here, over a few words and the letters: the prompts are padded to fixed
lengths (CLIP 77, T5 256 tokens), so their vocabulary changes nothing that is timed, and the questions are
about as many tokens as with the real ones.

After the prompts are encoded, CLIP and T5 go to the CPU, as a teach run's `training.offload_text_encoders`
moves them (`memory.py`): the loop never runs them again, and T5-XXL's 9.5 GB would otherwise count against
the memory target.
"""

from __future__ import annotations

import contextlib
import json
import string
from collections.abc import Iterator
from typing import Any

import torch

from ..errors import UserError
from . import adapters
from .bench import QUESTIONS, build_bench_run, time_loops
from .bench_configs import configs
from .memory import offload_text_encoders

QUESTION_COUNTS = (1, 4)
"""Question counts timed: the first question alone (one picture, with the horizon line), then all four (two
pictures)."""
SETTINGS = ((1, True), (4, True), (4, False))
"""(questions, our loop checkpoints): both counts as a memory-bound run would train (checkpointing), then
four questions again with our loop not checkpointing, as a run with memory to spare would (the reference's
never checkpoints)."""
UNCHECKPOINTED = ((1, False), (4, False))
"""`--no-checkpointing`: both counts with neither loop checkpointing."""
WORDS = ["a", "sunny", "landscape", "with", "trees", "at", "sunset", "desert", "house", "is", "the", "red",
         "line", "aligned", "horizon", "high", "in", "image", "it", "night", "there", "you", "are", "helpful",
         "assistant", "answer", "yes", "or", "no", "system", "user"]  # fmt: skip
"""What the local tokenizers know as whole words: the bench's prompts, questions and chat template."""
QWEN_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                       "<|image_pad|>", "<|video_pad|>"]  # fmt: skip
QWEN_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
"""The shape of Qwen2.5-VL-Instruct's chat template (chat_template.json): a default system turn, the image
between vision marks, the answer after `<|im_start|>assistant\\n`."""


# --- tokenizers built here ---------------------------------------------------------------------------------
def clip_tokenizer(max_length: int) -> Any:
    """A CLIP BPE tokenizer over the letters plus `WORDS` (merges spelled out letter by letter)."""
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in string.ascii_lowercase + string.punctuation:
        vocab.setdefault(c, len(vocab))
        vocab.setdefault(c + "</w>", len(vocab))
    merges = []
    for word in WORDS:
        pieces = list(word[:-1]) + [word[-1] + "</w>"]
        while len(pieces) > 1:
            merges.append((pieces[0], pieces[1]))
            pieces = [pieces[0] + pieces[1], *pieces[2:]]
            vocab.setdefault(pieces[0], len(vocab))
    pairs: Any = list(dict.fromkeys(merges))  # tokenizers' BPE takes (a, b) pairs; transformers annotates str
    return CLIPTokenizer(vocab=vocab, merges=pairs, model_max_length=max_length)


def t5_tokenizer() -> Any:
    """A unigram T5 tokenizer over `WORDS` and the letters."""
    from transformers import T5Tokenizer

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -3.0)]
    pieces += [("\u2581" + w, -1.0) for w in dict.fromkeys(WORDS)]
    pieces += [(c, -5.0) for c in string.ascii_lowercase + string.punctuation]
    return T5Tokenizer(vocab=pieces, extra_ids=0)


def qwen_tokenizer() -> Any:
    """A byte-level BPE like Qwen's (no unknown tokens), trained here on `WORDS`, with Qwen's special tokens
    and chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import Qwen2Tokenizer

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        special_tokens=QWEN_SPECIAL_TOKENS,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    corpus = [" ".join(WORDS), *(str(q["question"]) for q in QUESTIONS), "Answer with Yes or No."]
    tok.train_from_iterator(corpus, trainer)
    # no unknown token (byte-level BPE has none) and no bos, as Qwen's; transformers annotates them as str
    specials: dict[str, Any] = {"unk_token": None, "bos_token": None}
    tokenizer = Qwen2Tokenizer(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", **specials
    )
    tokenizer.chat_template = QWEN_CHAT_TEMPLATE
    return tokenizer


# --- models from configs ------------------------------------------------------------------------------------
@contextlib.contextmanager
def materialised(device: torch.device, dtype: torch.dtype) -> Iterator[None]:
    """Modules built inside are created on `device` in `dtype` directly: a 12B-parameter transformer
    initialised on the GPU takes seconds, on the CPU minutes, and never exists in float32."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            yield
    finally:
        torch.set_default_dtype(previous)


def _settle(module: Any, device: torch.device, dtype: torch.dtype) -> None:
    """Eval mode, and `device` and `dtype` where a library built a tensor its own way (casting what is already
    right would only make diffusers warn)."""
    module.eval()
    if any(p.dtype != dtype or p.device.type != device.type for p in module.parameters()):
        module.to(device=device, dtype=dtype)


def build_generator(cfg: dict[str, dict[str, Any]], device: torch.device, dtype: torch.dtype) -> Any:
    """A `FluxGenerator` over a `FluxPipeline` of FLUX.1-schnell's components built from `cfg`."""
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    from ..generators.flux import FluxGenerator

    torch.manual_seed(0)
    with materialised(device, dtype):
        transformer = FluxTransformer2DModel(**cfg["transformer"])
        vae = AutoencoderKL(**cfg["vae"])
        clip = CLIPTextModel(CLIPTextConfig(**cfg["clip"]))
        t5 = T5EncoderModel(T5Config(**cfg["t5"]))
    for module in (transformer, vae, clip, t5):
        _settle(module, device, dtype)
    pipeline = FluxPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(**cfg["scheduler"]),
        vae=vae,
        text_encoder=clip,
        tokenizer=clip_tokenizer(cfg["clip"]["max_position_embeddings"]),
        text_encoder_2=t5,
        tokenizer_2=t5_tokenizer(),
        transformer=transformer,
    )
    run = cfg["run"]
    return FluxGenerator(
        pipeline, resolution_px=run["resolution_px"], max_sequence_length=run["max_sequence_length"]
    )


def build_judge(cfg: dict[str, dict[str, Any]], device: torch.device, dtype: torch.dtype) -> Any:
    """A `Qwen2VLJudge` over a Qwen2.5-VL built from `cfg`, its special-token ids the local tokenizer's."""
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    from ..judges.qwen2_vl import Qwen2VLJudge

    tokenizer = qwen_tokenizer()
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in QWEN_SPECIAL_TOKENS}
    config = cfg["judge"] | {
        "bos_token_id": None,
        "eos_token_id": ids["<|im_end|>"],
        "pad_token_id": ids["<|endoftext|>"],
        "image_token_id": ids["<|image_pad|>"],
        "video_token_id": ids["<|video_pad|>"],
        "vision_start_token_id": ids["<|vision_start|>"],
        "vision_end_token_id": ids["<|vision_end|>"],
    }
    torch.manual_seed(1)
    with materialised(device, dtype):
        model = Qwen2_5_VLForConditionalGeneration(Qwen2_5_VLConfig(**config))
    _settle(model, device, dtype)
    model.requires_grad_(False)  # the judge is frozen; gradients still flow to the images
    # the PIL processor: the judge reads only its sizes, mean and std, and it needs no torchvision
    image_processor = Qwen2VLImageProcessorPil(**cfg["judge_preprocessor"])
    return Qwen2VLJudge(model, tokenizer, image_processor, QWEN_CHAT_TEMPLATE)


def float32_lora(run: Any) -> None:
    """LoRA weights kept in float32 under bf16 autocast, as diffusers' training scripts keep them
    (`cast_training_params`): bf16 weights would round most AdamW updates at lr 5e-5 away."""
    for p in run.params:
        p.data = p.data.float()


# --- the benchmark -----------------------------------------------------------------------------------------
def bench_at_scale(
    scale: str, steps: int = 10, reporter: Any = None, settings_timed: tuple[tuple[int, bool], ...] = SETTINGS
) -> dict[str, Any]:
    """The `bench_teach` result at `scale` ("full" or "tiny"): both loops in each of `settings_timed`."""
    cuda = torch.cuda.is_available()
    if scale == "full" and not cuda:
        raise UserError(
            "bench teach --scale full needs a CUDA GPU (FLUX.1-schnell and Qwen2.5-VL-7B in bf16, about 40 "
            "GB); none is visible here (--scale tiny runs the same code on tiny models)"
        )
    device = adapters.pick_device()  # on CUDA, with cuDNN's attention off, as a teach run has it
    dtype = torch.bfloat16 if cuda else torch.float32  # bf16 matmuls on a CPU are slow and gain nothing
    cfg = configs(scale)
    say = reporter.log if reporter is not None else (lambda level, message: None)
    say("info", f"building FLUX.1-schnell and Qwen2.5-VL-7B ({scale} configs, random weights, {dtype})")
    gen = build_generator(cfg, device, dtype)
    judge = build_judge(cfg, device, dtype)
    training = {
        "train_batch_size": 1,
        "noise_pool_size": 8,
        "num_inference_steps": 1,  # schnell's one step, the reference's setting
        "resolution_px": cfg["run"]["resolution_px"],
        "mixed_precision": "bf16" if cuda else "no",
    }
    question_sets: list[list[dict[str, Any]]] = [QUESTIONS[:n] for n in QUESTION_COUNTS]
    run, sets = build_bench_run(gen, judge, question_sets, training)
    float32_lora(run)
    offload_text_encoders(gen)  # what a teach run does with training.offload_text_encoders: true
    by_count = dict(zip(QUESTION_COUNTS, sets, strict=True))
    settings = []
    for n, checkpointing in settings_timed:
        how = "checkpointing" if checkpointing else "not checkpointing"
        say("info", f"timing both loops at {n} question(s), ours {how}, {steps} steps each")
        timing = time_loops(run, by_count[n], steps, ours_checkpointing=checkpointing)
        settings.append({k: v for k, v in timing.items() if k != "steps"})
        # each setting's numbers as soon as they exist: a run cut short still leaves what it measured
        say("info", f"{n} question(s): {json.dumps(settings[-1])}")
    weights = f"({scale} config), random weights, {str(dtype).removeprefix('torch.')}"
    return {
        "scale": scale,
        "device": torch.cuda.get_device_name() if cuda else "cpu",
        "generator": f"FLUX.1-schnell {weights}",
        "judge": f"Qwen2.5-VL-7B-Instruct {weights}",
        "resolution_px": cfg["run"]["resolution_px"],
        "steps": steps,
        "settings": settings,
    }

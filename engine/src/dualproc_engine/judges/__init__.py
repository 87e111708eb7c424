"""Judges: VLMs behind one contract, `logprob(images, questions, answers) -> Tensor[B, Q]` (base.py).

- `base`: the contract (a Protocol), the Yes/No instruction, locating answer tokens.
- `scenes_vlm`: the embedded judge's model, tokenizer and processor (stock FastVLM classes, tiny configs).
- `embedded`: the adapter for LLaVA-layout models (`EmbeddedJudge`); `llava`: LLaVA-1.5 (`LlavaJudge`);
  `qwen2_vl`: Qwen2.5-VL and Qwen2-VL (`Qwen2VLJudge`); `gemma3`: Gemma 3 (`Gemma3Judge`);
  `idefics3`: Idefics3 and SmolVLM (`Idefics3Judge`); `paligemma`: PaliGemma and PaliGemma 2
  (`PaliGemmaJudge`); `llava_next`: LLaVA-NeXT (`LlavaNextJudge`).
- `load`: `load_judge(name, device)`, a judge by preset or folder, with the adapter its family needs.
- `ask`: `ask_files(paths, question, answer, overlay, judge)` for the `ask` job.
- `evaluate`: accuracy per family, clean and degraded, and calibration.
- `degrade`: blur, noise, JPEG and colour jitter.

Importing this package is cheap: nothing heavy loads until a module is used.
"""

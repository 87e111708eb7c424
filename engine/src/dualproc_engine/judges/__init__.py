"""Judges: VLMs behind one contract, `logprob(images, questions, answers) -> Tensor[B, Q]` (base.py).

- `base`: the contract (a Protocol), the Yes/No instruction, locating answer tokens.
- `scenes_vlm`: the embedded judge's model, tokenizer and processor (stock LLaVA classes, tiny configs).
- `embedded`: the adapter for LLaVA-class models (`EmbeddedJudge`, `load_judge(name)`).
- `ask`: `ask_files(paths, question, answer, overlay, judge)` for the `ask` job.
- `evaluate`: accuracy per family, clean and degraded, and calibration.
- `degrade`: blur, noise, JPEG and colour jitter.

Importing this package is cheap: nothing heavy loads until a module is used.
"""

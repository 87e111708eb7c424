"""Evaluation of a taught LoRA on held-out prompts and seeds (the engine's half of `dualproc eval`)."""

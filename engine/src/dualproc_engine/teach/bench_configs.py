"""Published model configs for `bench teach --scale full`, and their tiny counterparts for `--scale tiny`.

The full-scale values are copied from the config files the model repos publish (named above each dict); the
benchmark builds the models from them with random weights, since the speed and memory of a step do not depend
on what the weights learned. Keys the libraries ignore (`_class_name`, `architectures`, version stamps) are
left out. The tiny configs are the same dicts with the sizes shrunk (`TINY_OVERRIDES`), so `--scale tiny`
runs the code path of `--scale full` on a CPU in seconds.
"""

from __future__ import annotations

import copy
from typing import Any

# --- FLUX.1-schnell (black-forest-labs/FLUX.1-schnell) ------------------------------------------------------
FLUX_SCHNELL_TRANSFORMER: dict[str, Any] = {
    # transformer/config.json (FluxTransformer2DModel; axes_dims_rope is the class default the repo relies on)
    "attention_head_dim": 128,
    "guidance_embeds": False,
    "in_channels": 64,
    "joint_attention_dim": 4096,
    "num_attention_heads": 24,
    "num_layers": 19,
    "num_single_layers": 38,
    "patch_size": 1,
    "pooled_projection_dim": 768,
    "axes_dims_rope": [16, 56, 56],
}
FLUX_VAE: dict[str, Any] = {
    # vae/config.json (AutoencoderKL), the same file in FLUX.1-schnell and FLUX.1-dev
    "act_fn": "silu",
    "block_out_channels": [128, 256, 512, 512],
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "force_upcast": True,
    "in_channels": 3,
    "latent_channels": 16,
    "latents_mean": None,
    "latents_std": None,
    "layers_per_block": 2,
    "mid_block_add_attention": True,
    "norm_num_groups": 32,
    "out_channels": 3,
    "sample_size": 1024,
    "scaling_factor": 0.3611,
    "shift_factor": 0.1159,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "use_post_quant_conv": False,
    "use_quant_conv": False,
}
FLUX_SCHNELL_SCHEDULER: dict[str, Any] = {
    # scheduler/scheduler_config.json (FlowMatchEulerDiscreteScheduler)
    "base_image_seq_len": 256,
    "base_shift": 0.5,
    "max_image_seq_len": 4096,
    "max_shift": 1.15,
    "num_train_timesteps": 1000,
    "shift": 1.0,
    "use_dynamic_shifting": False,
}
CLIP_L_TEXT: dict[str, Any] = {
    # text_encoder/config.json (CLIPTextModel: the text tower of openai/clip-vit-large-patch14)
    "attention_dropout": 0.0,
    "bos_token_id": 0,
    "dropout": 0.0,
    "eos_token_id": 2,
    "hidden_act": "quick_gelu",
    "hidden_size": 768,
    "initializer_factor": 1.0,
    "initializer_range": 0.02,
    "intermediate_size": 3072,
    "layer_norm_eps": 1e-05,
    "max_position_embeddings": 77,
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "pad_token_id": 1,
    "projection_dim": 768,
    "vocab_size": 49408,
}
T5_XXL_ENCODER: dict[str, Any] = {
    # text_encoder_2/config.json (T5EncoderModel: the encoder of google/t5-v1_1-xxl)
    "d_ff": 10240,
    "d_kv": 64,
    "d_model": 4096,
    "decoder_start_token_id": 0,
    "dense_act_fn": "gelu_new",
    "dropout_rate": 0.1,
    "eos_token_id": 1,
    "feed_forward_proj": "gated-gelu",
    "initializer_factor": 1.0,
    "is_encoder_decoder": True,
    "is_gated_act": True,
    "layer_norm_epsilon": 1e-06,
    "num_decoder_layers": 24,
    "num_heads": 64,
    "num_layers": 24,
    "pad_token_id": 0,
    "relative_attention_max_distance": 128,
    "relative_attention_num_buckets": 32,
    "tie_word_embeddings": False,
    "vocab_size": 32128,
}

# --- Qwen2.5-VL-7B-Instruct (Qwen/Qwen2.5-VL-7B-Instruct) ---------------------------------------------------
QWEN2_5_VL_7B: dict[str, Any] = {
    # config.json (Qwen2_5_VLForConditionalGeneration), in the published flat layout: transformers moves the
    # text keys into text_config. The special-token ids are replaced by the local tokenizer's at build time.
    "attention_dropout": 0.0,
    "bos_token_id": 151643,
    "eos_token_id": 151645,
    "vision_start_token_id": 151652,
    "vision_end_token_id": 151653,
    "vision_token_id": 151654,
    "image_token_id": 151655,
    "video_token_id": 151656,
    "hidden_act": "silu",
    "hidden_size": 3584,
    "initializer_range": 0.02,
    "intermediate_size": 18944,
    "max_position_embeddings": 128000,
    "max_window_layers": 28,
    "num_attention_heads": 28,
    "num_hidden_layers": 28,
    "num_key_value_heads": 4,
    "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0,
    "sliding_window": 32768,
    "tie_word_embeddings": False,
    "use_cache": True,
    "use_sliding_window": False,
    "vision_config": {
        "depth": 32,
        "hidden_act": "silu",
        "hidden_size": 1280,
        "intermediate_size": 3420,
        "num_heads": 16,
        "in_chans": 3,
        "out_hidden_size": 3584,
        "patch_size": 14,
        "spatial_merge_size": 2,
        "spatial_patch_size": 14,
        "window_size": 112,
        "fullatt_block_indexes": [7, 15, 23, 31],
        "tokens_per_second": 2,
        "temporal_patch_size": 2,
    },
    "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
    "vocab_size": 152064,
}
QWEN2_5_VL_PREPROCESSOR: dict[str, Any] = {
    # preprocessor_config.json (Qwen2VLImageProcessor)
    "min_pixels": 3136,
    "max_pixels": 12845056,
    "patch_size": 14,
    "temporal_patch_size": 2,
    "merge_size": 2,
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_std": [0.26862954, 0.26130258, 0.27577711],
}

FULL: dict[str, dict[str, Any]] = {
    "transformer": FLUX_SCHNELL_TRANSFORMER,
    "vae": FLUX_VAE,
    "scheduler": FLUX_SCHNELL_SCHEDULER,
    "clip": CLIP_L_TEXT,
    "t5": T5_XXL_ENCODER,
    "judge": QWEN2_5_VL_7B,
    "judge_preprocessor": QWEN2_5_VL_PREPROCESSOR,
    "run": {"resolution_px": 512, "max_sequence_length": 256},  # the reference's size; schnell's T5 length
}

TINY_OVERRIDES: dict[str, dict[str, Any]] = {
    "transformer": {
        "attention_head_dim": 16,
        "num_attention_heads": 2,
        "num_layers": 1,
        "num_single_layers": 1,
        "joint_attention_dim": 32,
        "pooled_projection_dim": 32,
        "axes_dims_rope": [4, 6, 6],
    },
    "vae": {
        "block_out_channels": [32, 32],
        "down_block_types": ["DownEncoderBlock2D"] * 2,
        "up_block_types": ["UpDecoderBlock2D"] * 2,
        "layers_per_block": 1,
        "sample_size": 32,
    },
    "clip": {"hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4, "num_hidden_layers": 1},
    "t5": {"d_ff": 64, "d_kv": 8, "d_model": 32, "num_heads": 4, "num_layers": 1, "num_decoder_layers": 1},
    "judge": {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_attention_heads": 2,
        "num_hidden_layers": 2,
        "num_key_value_heads": 1,
        "max_window_layers": 2,
        "rope_scaling": {"type": "mrope", "mrope_section": [2, 3, 3]},  # head dim 16: 8 frequencies
        "vision_config": {
            "depth": 2,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "out_hidden_size": 32,
            "patch_size": 4,
            "spatial_patch_size": 4,
            "window_size": 16,  # 2x2 merged blocks a window, one full-attention block: both kinds run
            "fullatt_block_indexes": [1],
        },
        "vocab_size": 1024,
    },
    "judge_preprocessor": {"patch_size": 4, "min_pixels": 16 * 16, "max_pixels": 64 * 64},
    "run": {"resolution_px": 32, "max_sequence_length": 16},
}
"""What `--scale tiny` changes: sizes only (every other key, and so every code path, is the full one's)."""


def _merged(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """`base` with `overrides` applied, nested dicts merged key by key."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "rope_scaling":
            out[key] = _merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def configs(scale: str) -> dict[str, dict[str, Any]]:
    """The model configs of `scale` ("full" or "tiny"), fresh copies the caller may change."""
    if scale == "full":
        return copy.deepcopy(FULL)
    if scale == "tiny":
        return {name: _merged(config, TINY_OVERRIDES.get(name, {})) for name, config in FULL.items()}
    raise ValueError(f"scale: expected full or tiny, got {scale!r}")

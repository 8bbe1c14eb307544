"""A tiny random 2-layer causal LM with a real tokenizer (from the bundled SmolLM2), built once and cached, for fast training tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from engine.workspace import sdrl_home

TINY_NAME = "tiny-llama-2l"


def tiny_model(folder: Path | str | None = None, *, seed: int = 0) -> Path:
    """An HF model folder holding the tiny model; built the first time only (a few seconds)."""
    target = Path(folder) if folder is not None else sdrl_home() / "hf" / TINY_NAME
    if (target / "config.json").is_file() and (target / ".complete").is_file():
        return target
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from engine.models import SMOLLM2, hf_folder, resolve_model

    tokenizer = AutoTokenizer.from_pretrained(hf_folder(resolve_model(SMOLLM2)))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        (staging / ".complete").write_text("tiny")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target

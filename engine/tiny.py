"""A tiny random 2-layer causal LM with a real tokenizer (from the bundled SmolLM2), built once and cached, and a workspace
set up to train it, for fast training tests. A random model never writes `#### 42`, so its workspace uses the checker
below, whose verdict on random text varies, which GRPO needs to move the weights."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from engine.workspace import sdrl_home

TINY_NAME = "tiny-llama-2l"


def tiny_model(folder: Path | str | None = None, *, seed: int = 0, hidden_size: int = 64) -> Path:
    """An HF model folder holding the tiny model; built the first time only (a few seconds).

    4 attention heads of hidden_size / 4; vLLM's attention kernels want heads of 32 or more (hidden_size=128)."""
    name = TINY_NAME if hidden_size == 64 else f"{TINY_NAME}-h{hidden_size}"
    target = Path(folder) if folder is not None else sdrl_home() / "hf" / name
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
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
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


def extract(text: str) -> str | None:
    """Checker for tiny-model tests: "1" when the completion has an even number of characters, "0" when odd."""
    return ("1" if len(text) % 2 == 0 else "0") if text.strip() else None


def render(answer: str) -> str:
    return "ab" if answer == "1" else "a"


def tiny_workspace(root: Path | str, items: int = 6, **training: object) -> Any:
    """A demo-template workspace whose base model is the tiny model, with `items` selected samples (the last one 'val')."""
    import tomli_w

    from engine.config import load_task
    from engine.training.data import insert_selection
    from engine.workspace import init_workspace

    ws = init_workspace(root, "demo")
    data = load_task(ws.task_file).model_dump(mode="json", exclude_none=True)
    data.update(answer_type="custom", checker="engine.tiny:extract")
    data["models"]["base"] = str(tiny_model())
    data["training"].update(
        {
            "max_completion_tokens": 12,
            "max_steps": 3,
            "checkpoint_every": 1,
            "sample_every": 1,
            "group_size": 4,
            "prompts_per_step": 1,
            **training,
        }
    )
    ws.task_file.write_text(tomli_w.dumps(data), encoding="utf-8")
    revision, _ = ws.current_revision("tiny training test")
    rows = [
        (f"Question {i}: say something.", "1", 0.5, "val" if i == items - 1 else "train")
        for i in range(items)
    ]
    insert_selection(ws.store, revision.id, rows)
    return ws

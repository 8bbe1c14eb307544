"""A correct HF tokenizer for a GGUF's SentencePiece-BPE vocabulary (Gemma), cached beside the dequantized HF folder.

transformers 5.17 converts the Gemma 3 GGUF vocabulary to a Unigram model and then loads it as a BPE
`GemmaTokenizer` without merges, which tokenizes text character by character (the model then
produces garbage). We rebuild BPE merges from the GGUF scores the way SentencePiece merges (the pair
whose merged piece scores highest goes first); the result matches llama.cpp's tokenization exactly.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from engine.errors import ModelError
from engine.models import ModelRef, hf_folder

FOLDER = "sdrl-tokenizer"
VERSION = "2"
"""Bump when the builder changes, so cached tokenizers are rebuilt rather than silently reused."""
_NORMAL, _CONTROL, _USER_DEFINED, _BYTE = 1, 3, 4, 6


def tokenizer_folder(ref: ModelRef) -> Path:
    """The folder to load the tokenizer from: the HF folder itself, or a repaired tokenizer for a SentencePiece GGUF."""
    folder = hf_folder(ref)
    if ref.kind != "gguf":
        return folder
    target = folder / FOLDER
    marker = target / ".complete"
    if (
        (target / "tokenizer.json").is_file()
        and marker.is_file()
        and marker.read_text() == f"{ref.path}\n{VERSION}"
    ):
        return target
    meta = _read_vocab(ref.path)
    if meta is None:  # not SentencePiece: transformers' own conversion is fine
        return folder
    staging = folder / f"{FOLDER}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        _build(meta).save(str(staging / "tokenizer.json"))
        tokens = meta["tokens"]
        config = {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "bos_token": tokens[meta["bos"]],
            "eos_token": tokens[meta["eos"]],
            "pad_token": tokens[meta["pad"]] if meta["pad"] is not None else tokens[meta["eos"]],
            "unk_token": tokens[meta["unk"]] if meta["unk"] is not None else None,
            "padding_side": "left",
            "model_max_length": 1_000_000,
        }
        if meta["chat_template"]:
            config["chat_template"] = meta["chat_template"]
        (staging / "tokenizer_config.json").write_text(json.dumps(config, indent=2))
        (staging / ".complete").write_text(f"{ref.path}\n{VERSION}")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    except (OSError, ValueError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelError(
            f"Cannot build a tokenizer for {ref.path}: {exc}",
            "check free disk space under SDRL_HOME",
        ) from exc
    return target


def load_tokenizer(ref: ModelRef) -> Any:
    """The model's tokenizer with left padding and a pad token (for batched generation)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_folder(ref))
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _read_vocab(path: Path) -> dict[str, Any] | None:
    import gguf

    reader = gguf.GGUFReader(str(path))
    fields = reader.fields
    model = fields.get("tokenizer.ggml.model")
    if (
        model is None
        or bytes(model.parts[-1]).decode() != "llama"
        or "tokenizer.ggml.scores" not in fields
    ):
        return None

    def array(name: str) -> list[Any]:
        field = fields[name]
        return [field.parts[i] for i in field.data]

    def scalar(name: str) -> int | None:
        return int(fields[name].parts[-1][0]) if name in fields else None

    tokens = [bytes(p).decode("utf-8", errors="replace") for p in array("tokenizer.ggml.tokens")]
    return {
        "tokens": tokens,
        "scores": [float(p[0]) for p in array("tokenizer.ggml.scores")],
        "types": [int(p[0]) for p in array("tokenizer.ggml.token_type")],
        "bos": scalar("tokenizer.ggml.bos_token_id"),
        "eos": scalar("tokenizer.ggml.eos_token_id"),
        "pad": scalar("tokenizer.ggml.padding_token_id"),
        "unk": scalar("tokenizer.ggml.unknown_token_id"),
        "add_bos": _flag(fields, "tokenizer.ggml.add_bos_token", True),
        "add_space_prefix": _flag(fields, "tokenizer.ggml.add_space_prefix", True),
        "chat_template": bytes(fields["tokenizer.chat_template"].parts[-1]).decode()
        if "tokenizer.chat_template" in fields
        else None,
    }


def _flag(fields: dict[str, Any], name: str, default: bool) -> bool:
    return bool(fields[name].parts[-1][0]) if name in fields else default


def _build(meta: dict[str, Any]) -> Any:
    from tokenizers import AddedToken, Tokenizer, decoders, normalizers, processors
    from tokenizers.models import BPE

    scores, types = meta["scores"], meta["types"]
    # SentencePiece writes spaces as U+2581; whitespace-run pieces are stored with real spaces
    names = ["\u2581" * len(t) if t and not t.strip(" ") else t for t in meta["tokens"]]
    vocab = {name: i for i, name in enumerate(names)}
    mergeable = {_NORMAL, _BYTE}
    merges: list[tuple[float, float, float, str, str]] = []
    for i, name in enumerate(names):
        if types[i] != _NORMAL or len(name) < 2:
            continue
        for cut in range(1, len(name)):
            left, right = name[:cut], name[cut:]
            li, ri = vocab.get(left), vocab.get(right)
            if (
                li is not None
                and ri is not None
                and types[li] in mergeable
                and types[ri] in mergeable
            ):
                merges.append((scores[i], scores[li], scores[ri], left, right))
    merges.sort(key=lambda m: (m[0], m[1], m[2]), reverse=True)
    unk = names[meta["unk"]] if meta["unk"] is not None else None
    tokenizer = Tokenizer(
        BPE(vocab, [(m[3], m[4]) for m in merges], unk_token=unk, fuse_unk=True, byte_fallback=True)
    )
    replace = normalizers.Replace(" ", "\u2581")
    # Llama-style vocabularies put a space before the text; Gemma's does not
    tokenizer.normalizer = (
        normalizers.Sequence([normalizers.Prepend("\u2581"), replace])
        if meta["add_space_prefix"]
        else replace
    )
    tokenizer.decoder = decoders.Sequence(
        [decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse()]
    )
    tokenizer.add_special_tokens(
        [
            AddedToken(n, special=True, normalized=False)
            for i, n in enumerate(names)
            if types[i] == _CONTROL
        ]
    )
    tokenizer.add_tokens(
        [
            AddedToken(n, special=False, normalized=True)
            for i, n in enumerate(names)
            if types[i] == _USER_DEFINED
        ]
    )
    if meta["add_bos"] and meta["bos"] is not None:
        bos = names[meta["bos"]]
        tokenizer.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A $B", special_tokens=[(bos, meta["bos"])]
        )
    return tokenizer

"""Shared pieces of the synthesis stages: prompt messages, typed JSON schemas, failure rows and sample hashing."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from typing import Any

from engine.backends.base import Messages
from engine.config import TaskDefinition
from engine.parsing import vote_schema
from engine.prompting import render

SPLIT = "=== user ==="
RAW_LIMIT = 4000
"""Raw replies kept with a failure are cut to this many characters."""


def messages(name: str, **values: Any) -> Messages:
    """A prompt file rendered as chat messages: the part above `=== user ===` is the system message."""
    text = render(name, **values)
    system, sep, user = text.partition(SPLIT)
    if not sep:
        return [{"role": "user", "content": text.strip()}]
    return [
        {"role": "system", "content": system.strip()},
        {"role": "user", "content": user.strip()},
    ]


def format_demos(task: TaskDefinition, limit: int | None = None) -> str:
    demos = task.demos[: task.generation.max_demos_in_prompt if limit is None else limit]
    return "".join(
        f"\nExample {i}:\n{json.dumps({'input': d.input, 'output': d.output}, ensure_ascii=False)}\n"
        for i, d in enumerate(demos, 1)
    )


def generation_schema(task: TaskDefinition) -> dict[str, Any]:
    """{input, output, answer}: the answer field is typed like a vote's, so the generator's own vote parses."""
    answer = vote_schema(task.answer_type, task.choices)["properties"]["answer"]
    return {
        "type": "object",
        "properties": {
            "input": {"type": "string", "minLength": 10},
            "output": {"type": "string", "minLength": 1},
            "answer": answer,
        },
        "required": ["input", "output", "answer"],
    }


def normalize_question(text: str) -> str:
    return " ".join(text.casefold().split())


def question_hash(text: str) -> str:
    return hashlib.sha256(normalize_question(text).encode("utf-8")).hexdigest()


def record_failure(
    conn: sqlite3.Connection,
    revision_id: int,
    stage: str,
    item_key: str,
    reason: str,
    raw: str = "",
) -> None:
    conn.execute(
        "INSERT INTO failures(revision_id, stage, item_key, reason, raw, created_at) VALUES (?,?,?,?,?,?) "
        "ON CONFLICT(revision_id, stage, item_key) DO UPDATE SET reason=excluded.reason, raw=excluded.raw, created_at=excluded.created_at",
        (revision_id, stage, item_key, reason, raw[:RAW_LIMIT], time.time()),
    )


def batch_size(instructor: Any, default: int = 1) -> int:
    """vLLM takes a whole stage's prompts in one call; sequential backends go item by item (finest resume)."""
    return 256 if getattr(instructor, "name", "") == "vllm" else default

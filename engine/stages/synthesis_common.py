"""Shared pieces of the synthesis stages: prompt messages, typed JSON schemas, the instructor call that
writes samples, failure rows and attempts per slot."""

from __future__ import annotations

import json
import random
import sqlite3
import time
from typing import Any

from engine.backends.base import Completion, Messages, Request, ask, ask_many
from engine.config import TaskDefinition
from engine.parsing import (
    GeneratedSample,
    ParseFailure,
    parse_fewshot_sample,
    parse_sample,
    vote_schema,
)
from engine.prompting import render
from engine.store import Store

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


FEWSHOT_STOP = ("\n\n", "\nQuestion:")
"""A few-shot continuation ends at the blank line before the next example (or at its "Question:")."""


def fewshot_examples(task: TaskDefinition, seed: int | None = None) -> str:
    """The demos as "Question: ...\nAnswer: ..." blocks, shuffled by `seed` (the model leans on the last
    one, so the order varies per slot), at most `max_demos_in_prompt` (at least one)."""
    demos = list(task.demos)
    if seed is not None:
        random.Random(seed).shuffle(demos)
    demos = demos[: max(1, task.generation.max_demos_in_prompt)]
    return "\n".join(f"Question: {d.input.strip()}\nAnswer: {d.output.strip()}\n" for d in demos)


def fewshot_request(name: str, **values: Any) -> Completion:
    """A prompt file rendered as one plain-text prompt to continue, cut at FEWSHOT_STOP."""
    return Completion(render(name, **values).rstrip(), FEWSHOT_STOP)


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


def attempt_key(slot_key: str, attempt: int) -> str:
    """The failure row of one failed attempt at a slot: `initial:3#0`, `harder:1:42#1`, ..."""
    return f"{slot_key}#{attempt}"


def failed_attempts(store: Store, revision_id: int, stage: str) -> dict[str, int]:
    """Failed attempts per slot of a stage, across runs (each is a failure row `slot#attempt`)."""
    attempts: dict[str, int] = {}
    for (item_key,) in store.query(
        "SELECT item_key FROM failures WHERE revision_id=? AND stage=?", (revision_id, stage)
    ):
        slot = item_key.partition("#")[0]
        attempts[slot] = attempts.get(slot, 0) + 1
    return attempts


def ask_for_samples(
    instructor: Any,
    prompts: list[Request],
    *,
    temperature: float,
    max_tokens: int,
    seed: int,
    json_schema: dict[str, Any],
) -> list[tuple[str, GeneratedSample | ParseFailure]]:
    """(raw reply, parsed sample or failure) per prompt, from one instructor call (one batched call for
    several prompts, per-request seeds seed + index). An instructor error, e.g. a prompt longer than
    the context, fails these items as `instructor_error`, not the run."""
    try:
        if len(prompts) == 1:
            replies = [
                ask(
                    instructor,
                    prompts[0],
                    temperature=temperature,
                    max_tokens=max_tokens,
                    seed=seed,
                    json_schema=json_schema,
                )
            ]
        else:
            replies = ask_many(
                instructor,
                prompts,
                temperature=temperature,
                max_tokens=max_tokens,
                seed=seed,
                json_schema=json_schema,
            )
    except (ValueError, RuntimeError) as exc:
        return [(str(exc), ParseFailure("instructor_error", str(exc)))] * len(prompts)
    return [
        (reply, parse_reply(prompt, reply)) for prompt, reply in zip(prompts, replies, strict=True)
    ]


def parse_reply(request: Request, reply: str) -> GeneratedSample | ParseFailure:
    """A generated sample from a reply: few-shot text for a plain-text prompt, else JSON."""
    return parse_fewshot_sample(reply) if isinstance(request, Completion) else parse_sample(reply)


def batch_size(instructor: Any, default: int = 1) -> int:
    """vLLM takes a whole stage's prompts in one call; sequential backends go item by item (finest resume)."""
    return 256 if getattr(instructor, "name", "") == "vllm" else default

"""Previews: stream a few generated questions token by token with their passages; store one only when asked."""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterator
from typing import Any

from engine.backends.base import ask_stream
from engine.backends.instructor import get_instructor
from engine.events import (
    Event,
    ItemDone,
    ItemFailed,
    StageFinished,
    StageStarted,
    StageWarning,
    Token,
)
from engine.parsing import ParseFailure
from engine.pool import NewSample, insert_sample, question_hash
from engine.stages import StageContext
from engine.stages.generate import _ingest_events, assemble_output, generation_request
from engine.stages.keywords import fallback_keywords, stored_keywords
from engine.stages.retrieval import rank_passages, stored_order
from engine.stages.synthesis_common import generation_schema, parse_reply

STAGE = "preview"


def _passages(ctx: StageContext, k: int, seed: int) -> list[tuple[int | None, str]]:
    """k passages: from the stored retrieval order, or BM25 on the keywords (no instructor call, so previews start fast)."""
    order = stored_order(ctx)
    if order is None:
        keywords = stored_keywords(ctx) or fallback_keywords(ctx)
        order, _ = rank_passages(ctx, keywords.query())
    if not order:
        return [(None, "")] * k
    rng = random.Random(seed)
    picked = [order[rng.randrange(len(order))] for _ in range(k)]
    rows = ctx.store.query(
        f"SELECT id, text FROM passages WHERE id IN ({','.join('?' * len(picked))})", picked
    )
    texts = {r["id"]: r["text"] for r in rows}
    return [(pid, texts.get(pid, "")) for pid in picked]


def iter_preview(
    ctx: StageContext, k: int = 3, seed: int | None = None, ingest: bool = True
) -> Iterator[Event]:
    """For each of k samples: Token events as the instructor writes, then ItemDone(detail={input, output, passage, passage_id})."""
    gen = ctx.task.generation
    if ingest and ctx.workspace.corpus_dir.is_dir():
        for event in _ingest_events(ctx):
            if isinstance(
                event, StageWarning
            ):  # only skipped files surface; the preview's events stay its own
                yield event
    seed = int(time.time()) if seed is None else seed
    yield StageStarted(STAGE, total=k)
    instructor = get_instructor(ctx.task)
    schema = generation_schema(ctx.task)
    counts = {"previewed": 0, "parse_failures": 0}
    for i, (passage_id, passage) in enumerate(_passages(ctx, k, seed)):
        if ctx.should_stop():
            yield StageFinished(STAGE, counts=counts, stopped=True)
            return
        pieces: list[str] = []
        passage = passage[: min(gen.preview_passage_chars, gen.passage_chars)]
        prompt = generation_request(ctx, passage, seed + i)
        for piece in ask_stream(
            instructor,
            prompt,
            temperature=gen.temperature,
            max_tokens=gen.max_tokens,
            seed=seed + i,
            json_schema=schema,
        ):
            pieces.append(piece)
            yield Token(STAGE, item_id=i, text=piece)
        reply = "".join(pieces)
        parsed = parse_reply(prompt, reply)
        if isinstance(parsed, ParseFailure):
            counts["parse_failures"] += 1
            yield ItemFailed(
                STAGE,
                item_id=i,
                reason=parsed.reason,
                detail={"raw": reply[:2000], "passage": passage[: gen.passage_chars]},
            )
            continue
        counts["previewed"] += 1
        detail = {
            "input": parsed.input,
            "output": assemble_output(ctx, parsed),
            "passage": passage[: gen.passage_chars],
            "passage_id": passage_id,
        }
        yield ItemDone(STAGE, item_id=i, detail=detail)
    yield StageFinished(STAGE, counts=counts)


def keep_preview(ctx: StageContext, item: dict[str, Any], origin: str = "manual") -> int:
    """Store a previewed item in the pool as a pending sample (labelled later by `iter_label`); idempotent per question."""
    if origin not in ("manual", "initial"):
        raise ValueError("origin must be 'manual' or 'initial'")
    question = str(item["input"]).strip()
    digest = question_hash(question)
    key = f"preview:{hashlib.sha256(digest.encode()).hexdigest()[:16]}"
    sample = NewSample(
        origin, key, question, str(item.get("output", "")), passage_id=item.get("passage_id")
    )
    with ctx.store.transaction() as conn:
        insert_sample(conn, ctx.revision.id, sample)
        row = conn.execute(
            "SELECT id FROM samples WHERE revision_id=? AND slot_key=?", (ctx.revision.id, key)
        ).fetchone()
    return int(row["id"])

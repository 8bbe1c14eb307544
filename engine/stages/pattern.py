"""Stage 3 (only with demos): the instructor summarises the demos' general pattern without quoting them."""

from __future__ import annotations

from collections.abc import Iterator

from engine.backends.instructor import get_instructor
from engine.events import Event, ItemFailed, StageFinished, StageStarted
from engine.parsing import PATTERN_SCHEMA, ParseFailure, parse_text
from engine.stages import StageContext
from engine.stages.synthesis_common import format_demos, messages, record_failure

STAGE = "pattern"


def stored_pattern(ctx: StageContext) -> str:
    return ctx.store.get_artifact(ctx.revision.id, STAGE, "pattern") or ""


def iter_pattern(ctx: StageContext) -> Iterator[Event]:
    yield StageStarted(STAGE, total=1 if ctx.task.demos else 0)
    if not ctx.task.demos:
        yield StageFinished(STAGE, counts={"skipped": 1})
        return
    if ctx.store.get_artifact(ctx.revision.id, STAGE, "pattern") is not None:
        yield StageFinished(STAGE, counts={"reused": 1})
        return
    gen = ctx.task.generation
    prompt = messages(
        "pattern",
        description=ctx.task.description.strip(),
        demos=format_demos(ctx.task, limit=len(ctx.task.demos)),
    )
    reply = get_instructor(ctx.task).chat(
        prompt,
        temperature=0.0,
        max_tokens=gen.max_tokens,
        seed=gen.seed,
        json_schema=PATTERN_SCHEMA,
    )
    parsed = parse_text(reply, "pattern")
    failures = 0
    with ctx.store.transaction() as conn:
        if isinstance(parsed, ParseFailure):
            failures = 1
            record_failure(conn, ctx.revision.id, STAGE, "pattern", parsed.reason, reply)
            parsed = ""  # generation goes on with the demos alone
        ctx.store.put_artifact(conn, ctx.revision.id, STAGE, "pattern", parsed)
    if failures:
        yield ItemFailed(
            STAGE,
            item_id="pattern",
            reason="unparseable pattern summary; generation uses the demos only",
        )
    yield StageFinished(STAGE, counts={"parse_failures": failures})

"""Stage 1: the instructor condenses the task description (and demos) into a domain and search keywords (temperature 0)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from engine.backends.instructor import get_instructor
from engine.events import Event, ItemFailed, StageFinished, StageStarted, StageWarning
from engine.parsing import KEYWORDS_SCHEMA, Keywords, ParseFailure, parse_keywords
from engine.stages import StageContext
from engine.stages.synthesis_common import format_demos, messages, record_failure

STAGE = "keywords"
_STOP = frozenset(
    "a an and are as at be by each for from has have in is it its of on one or that the this to with".split()  # noqa: SIM905
)


def stored_keywords(ctx: StageContext) -> Keywords | None:
    value = ctx.store.get_artifact(ctx.revision.id, STAGE, "keywords")
    if value is None:
        return None
    data = json.loads(value)
    return Keywords(data["domain"], tuple(data["terms"]))


def fallback_keywords(ctx: StageContext) -> Keywords:
    """Content words of the description, used when the instructor's reply cannot be parsed."""
    words = [
        w
        for w in re.findall(r"[a-z]+", ctx.task.description.casefold())
        if w not in _STOP and len(w) > 2
    ]
    unique = list(dict.fromkeys(words))
    return Keywords(ctx.task.name, tuple(unique[:20]))


def iter_keywords(ctx: StageContext) -> Iterator[Event]:
    yield StageStarted(STAGE, total=1)
    if stored_keywords(ctx) is not None:
        yield StageFinished(STAGE, counts={"reused": 1})
        return
    gen = ctx.task.generation
    prompt = messages(
        "keywords",
        description=ctx.task.description.strip(),
        demos=("Examples:" + format_demos(ctx.task)) if ctx.task.demos else "",
        count=gen.keyword_count,
    )
    reply = get_instructor(ctx.task).chat(
        prompt, temperature=0.0, max_tokens=128, seed=gen.seed, json_schema=KEYWORDS_SCHEMA
    )
    parsed = parse_keywords(reply, limit=gen.keyword_count)
    failures = 0
    if isinstance(parsed, ParseFailure) or not parsed.terms:
        failures = 1
        reason = parsed.reason if isinstance(parsed, ParseFailure) else "no keywords"
        yield ItemFailed(STAGE, item_id="keywords", reason=reason)
        yield StageWarning(
            STAGE,
            message=f"the instructor's keywords could not be parsed ({reason}); using words of the description",
        )
        parsed = fallback_keywords(ctx)
    with ctx.store.transaction() as conn:
        if failures:
            record_failure(conn, ctx.revision.id, STAGE, "keywords", "parse_failure", reply)
        ctx.store.put_artifact(
            conn,
            ctx.revision.id,
            STAGE,
            "keywords",
            json.dumps({"domain": parsed.domain, "terms": list(parsed.terms)}),
        )
    yield StageFinished(STAGE, counts={"keywords": len(parsed.terms), "parse_failures": failures})

"""Stage 2: BM25 top passages for the keywords, deduplicated and shuffled with the seed; the order is stored per revision."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator

from engine.corpus.index import PassageIndex, corpus_version
from engine.events import Event, StageFinished, StageStarted, StageWarning
from engine.stages import StageContext
from engine.stages.keywords import fallback_keywords, stored_keywords

STAGE = "retrieval"


def stored_order(ctx: StageContext) -> list[int] | None:
    """The passage order for this revision, if it was made from the corpus as it is now."""
    value = ctx.store.get_artifact(ctx.revision.id, STAGE, "order")
    if value is None:
        return None
    data = json.loads(value)
    if data.get("corpus_version") != corpus_version(ctx.store):
        return None
    return [int(i) for i in data["passages"]]


def rank_passages(ctx: StageContext, query: str) -> tuple[list[int], bool]:
    """(deduplicated shuffled passage ids, whether BM25 matched anything)."""
    gen = ctx.task.generation
    hits = PassageIndex(ctx.workspace.index_dir, ctx.store).search_ids(
        query, gen.retrieval_passages
    )
    matched = bool(hits)
    ids = [i for i, _ in hits]
    if not ids:  # nothing matched the keywords: fall back to the whole corpus
        ids = [
            r[0]
            for r in ctx.store.query(
                "SELECT id FROM passages ORDER BY id LIMIT ?", (gen.retrieval_passages,)
            )
        ]
    seen: set[str] = set()
    unique: list[int] = []
    texts = _texts(ctx, ids)
    for passage_id in ids:
        digest = hashlib.sha256(" ".join(texts.get(passage_id, "").split()).encode()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            unique.append(passage_id)
    random.Random(gen.seed).shuffle(unique)
    return unique, matched


def _texts(ctx: StageContext, ids: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = ctx.store.query(
            f"SELECT id, text FROM passages WHERE id IN ({','.join('?' * len(chunk))})", chunk
        )
        out.update({r["id"]: r["text"] for r in rows})
    return out


def iter_retrieval(ctx: StageContext) -> Iterator[Event]:
    yield StageStarted(STAGE, total=1)
    if stored_order(ctx) is not None:
        yield StageFinished(STAGE, counts={"reused": 1})
        return
    keywords = stored_keywords(ctx) or fallback_keywords(ctx)
    total = int(ctx.store.scalar("SELECT COUNT(*) FROM passages") or 0)
    order: list[int] = []
    matched = False
    if total == 0:
        yield StageWarning(
            STAGE,
            message="the corpus is empty: questions will not be grounded in documents",
            hint="add documents with `sdrl corpus add PATH` or put .txt/.md/.jsonl files in the workspace's corpus/ folder",
        )
    else:
        order, matched = rank_passages(ctx, keywords.query())
        if not matched:
            yield StageWarning(
                STAGE,
                message=f"no passage matched the keywords {keywords.query()!r}; using passages in corpus order",
            )
    value = json.dumps(
        {"corpus_version": corpus_version(ctx.store), "query": keywords.query(), "passages": order}
    )
    with ctx.store.transaction() as conn:
        ctx.store.put_artifact(conn, ctx.revision.id, STAGE, "order", value)
    yield StageFinished(STAGE, counts={"passages": len(order), "corpus_passages": total})

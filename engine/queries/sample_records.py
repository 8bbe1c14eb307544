"""Samples as the CLI lists and shows them: the rows of the studio's sample table, and one sample in full."""

from __future__ import annotations

from typing import Any

from engine.queries import SampleQuery, SampleRow, sample_detail, sample_ids, sample_rows
from engine.store import Store


def sample_revisions(store: Store) -> list[int]:
    """Revisions that have samples, oldest first."""
    return [
        int(r[0])
        for r in store.query("SELECT DISTINCT revision_id FROM samples ORDER BY revision_id")
    ]


def listed_samples(
    store: Store,
    revision_id: int | None,
    *,
    status: str = "all",
    origin: str | None = None,
    limit: int | None = None,
) -> list[SampleRow]:
    """Samples of one revision (None: all), by id, with the studio's text and status in force and its filters."""
    revisions = [revision_id] if revision_id is not None else sample_revisions(store)
    found: list[SampleRow] = []
    for rid in revisions:
        query = SampleQuery(status=origin or status) if status == "all" else SampleQuery(status)
        for row in sample_rows(store, rid, sample_ids(store, rid, query)):
            if origin is not None and row.origin != origin:
                continue
            found.append(row)
            if limit is not None and len(found) >= limit:
                return found
    return found


def sample_record(store: Store, sample_id: int) -> dict[str, Any] | None:
    """One sample with the question and label in force (`edited` says whether they are the user's), the
    pipeline's originals, passage, votes, probes, rollouts per model, pass rates and every decision."""
    detail = sample_detail(store, sample_id)
    if detail is None:
        return None
    raw = dict(store.query("SELECT * FROM samples WHERE id=?", (sample_id,))[0])
    row = detail.row
    probes = [
        dict(p)
        for p in store.query(
            "SELECT model, answer, correct, text FROM probes WHERE sample_id=?", (sample_id,)
        )
    ]
    rollouts = [
        dict(r)
        for r in store.query(
            "SELECT model, COUNT(*) AS k, SUM(correct) AS passed FROM rollouts WHERE sample_id=? GROUP BY model",
            (sample_id,),
        )
    ]
    scores = [
        dict(s)
        for s in store.query(
            "SELECT model, k, passed, pass_rate FROM scores WHERE sample_id=?", (sample_id,)
        )
    ]
    return {
        "id": row.id,
        "revision_id": raw["revision_id"],
        "origin": row.origin,
        "round": raw["round"],
        "parent_id": raw["parent_id"],
        "slot_key": raw["slot_key"],
        "status": row.status,
        "pipeline_status": raw["status"],
        "decision": row.decision,
        "edited": row.edited,
        "question": row.question,
        "label": row.label,
        "original_question": raw["question"],
        "original_label": raw["label"],
        "agreement": row.agreement,
        "pass_rate": row.pass_rate,
        "generated_answer": detail.generated_answer,
        "rationale": detail.rationale,
        "passage_id": raw["passage_id"],
        "passage": detail.passage or None,
        "votes": detail.votes,
        "probes": probes,
        "rollouts": rollouts,
        "scores": scores,
        "decisions": detail.decisions,
    }

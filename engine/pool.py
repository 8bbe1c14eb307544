"""The sample pool: the one way samples are added (`insert_sample`), and labelled samples of a revision as
later stages see them, with the user's decisions applied."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from engine.answers import AnswerChecker
from engine.store import Store

EDIT_IN_FORCE_JOIN = """
LEFT JOIN decisions e ON e.id = (
    SELECT MAX(x.id) FROM decisions x WHERE x.sample_id = s.id AND x.action = 'edit'
    AND NOT EXISTS (SELECT 1 FROM decisions c WHERE c.sample_id = s.id AND c.action = 'clear' AND c.id > x.id))"""
"""Joins `e`, the edit in force of sample `s`: its newest edit not undone by a later clear."""

DECISION_IN_FORCE_JOIN = """
LEFT JOIN decisions d ON d.id = (
    SELECT MAX(id) FROM decisions WHERE sample_id = s.id AND action IN ('accept', 'pin', 'reject', 'clear'))"""
"""Joins `d`, the decision in force of sample `s`: its newest accept, pin, reject or clear ('clear' = none)."""

TEXT_IN_FORCE = "COALESCE(e.question, s.question) AS question, COALESCE(e.answer, s.label) AS label"
"""The question and label in force of `s` (needs EDIT_IN_FORCE_JOIN): the edit's, else the generated ones."""

_POOL_SQL = (
    """
SELECT s.id, s.origin, s.parent_id, s.round, s.status, s.agreement, s.passage_id,
       """
    + TEXT_IN_FORCE
    + """,
       e.created_at AS edited_at,
       CASE WHEN d.action IN ('accept', 'pin', 'reject') THEN d.action END AS decision
FROM samples s"""
    + DECISION_IN_FORCE_JOIN
    + EDIT_IN_FORCE_JOIN
    + """
WHERE s.revision_id = ?
  AND (s.status = 'labelled' OR (s.status = 'unlabelable' AND e.answer IS NOT NULL))
ORDER BY s.id
"""
)


@dataclass(frozen=True)
class PoolSample:
    id: int
    origin: str
    parent_id: int | None
    round: int
    question: str
    label: str | None
    agreement: float | None
    decision: str | None
    """accept, pin, reject or None (a `clear` decision means None)."""
    edited_at: float | None
    """When the edit in force was made (a probe or score older than this is stale)."""
    passage_id: int | None = None


def pool(store: Store, revision_id: int, *, include_rejected: bool = False) -> list[PoolSample]:
    """Labelled samples (and user-labelled ones) of the revision; edits replace question and label.

    The newest accept/pin/reject/clear decision sets the decision; the newest edit (not undone by a
    later clear) sets the content, so pinning an edited sample keeps the edit.
    """
    rows = store.query(_POOL_SQL, (revision_id,))
    samples = [_sample(r) for r in rows]
    return samples if include_rejected else [s for s in samples if s.decision != "reject"]


def _sample(row: Any) -> PoolSample:
    return PoolSample(
        row["id"],
        row["origin"],
        row["parent_id"],
        row["round"],
        row["question"],
        row["label"],
        row["agreement"],
        row["decision"],
        row["edited_at"],
        row["passage_id"],
    )


def label_checkable(checker: AnswerChecker, label: str | None) -> bool:
    """Whether a correct completion could ever match this label (its rendering extracts back to it)."""
    if label is None or not label.strip():
        return False
    try:
        extracted = checker.extract(checker.render(label))
        return extracted is not None and checker.equivalent(extracted, label)
    except (ValueError, TypeError, AttributeError):
        return False


def stale(done_at: float | None, sample: PoolSample) -> bool:
    """A stored probe/score is stale when the sample was edited after it was made."""
    return done_at is not None and sample.edited_at is not None and sample.edited_at > done_at


def normalize_question(text: str) -> str:
    return " ".join(text.casefold().split())


def question_hash(text: str) -> str:
    """The content hash of a question: equal for questions that differ only in case and spacing."""
    return hashlib.sha256(normalize_question(text).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewSample:
    """A sample to add to the pool. `slot_key` is its resume key ('initial:17', 'harder:1:342', ...)."""

    origin: str
    """initial, harder, easier or manual."""
    slot_key: str
    question: str
    generated_answer: str = ""
    round: int = 0
    parent_id: int | None = None
    passage_id: int | None = None
    label: str | None = None
    agreement: float | None = None
    status: str = "pending"


def insert_sample(conn: sqlite3.Connection, revision_id: int, sample: NewSample) -> int | None:
    """Add `sample` inside the caller's transaction unless its slot already holds one (so a resumed or
    concurrent stage never duplicates); the new row's id, or None when the slot was taken."""
    cur = conn.execute(
        "INSERT OR IGNORE INTO samples(revision_id, origin, parent_id, round, slot_key, passage_id, "
        "question, generated_answer, label, agreement, status, content_hash, created_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            revision_id,
            sample.origin,
            sample.parent_id,
            sample.round,
            sample.slot_key,
            sample.passage_id,
            sample.question,
            sample.generated_answer,
            sample.label,
            sample.agreement,
            sample.status,
            question_hash(sample.question),
            time.time(),
        ),
    )
    return cur.lastrowid if cur.rowcount else None

"""The one read path over the store: samples as curated (paged queries, detail, decisions with undo), selections,
runs and evals, for the studio, the CLI, training, export and eval.

Plain functions returning dataclasses and dicts; the only writes are curation decisions (apply / undo).
Submodules: `selections` (what trains), `training_runs`, `evaluations` (the one eval pairing).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from engine.pool import EDIT_IN_FORCE_JOIN, TEXT_IN_FORCE
from engine.queries.evaluations import (
    eval_comparison,
    eval_pairs,
    eval_row,
    evals,
    latest_pair,
    pair_evals,
)
from engine.queries.selections import SelectedSample, latest_selection_id, selected_samples
from engine.queries.training_runs import run, run_metrics_since, runs_matching, train_runs
from engine.store import Store

__all__ = [
    "SelectedSample",
    "eval_comparison",
    "eval_pairs",
    "eval_row",
    "evals",
    "latest_pair",
    "latest_selection_id",
    "pair_evals",
    "run",
    "run_metrics_since",
    "runs_matching",
    "selected_samples",
    "train_runs",
]

DECISION_ACTIONS = ("accept", "reject", "pin", "clear", "edit")
SORT_COLUMNS = ("id", "question", "label", "agreement", "origin", "pass_rate", "status")
ORIGINS = ("initial", "harder", "easier", "manual")
STATUS_FILTERS = (
    "all",
    "accepted",
    "pinned",
    "rejected",
    "edited",
    "labelled",
    "pending",
    "unlabelable",
    "duplicate",
    "contaminated",
    "doubtful",
    "unscored",
    *ORIGINS,
)
"""Filters of the sample table: a status in force, doubtful labels, unscored samples, or an origin."""

# The rules of engine.pool (and its edit join): the newest accept/pin/reject/clear is the decision in force ('clear' = none);
# the newest edit not followed by a clear replaces question and label, so pinning an edited sample keeps the edit.
_SAMPLE_SELECT = (
    """
SELECT s.id, s.revision_id, s.origin, s.status AS base_status, s.agreement,
  """
    + TEXT_IN_FORCE
    + """, e.id AS edit_id,
  (SELECT sc.pass_rate FROM scores sc WHERE sc.sample_id=s.id ORDER BY sc.created_at DESC LIMIT 1) AS pass_rate,
  (SELECT d.action FROM decisions d WHERE d.sample_id=s.id AND d.action IN ('accept','pin','reject','clear')
   ORDER BY d.id DESC LIMIT 1) AS decision
FROM samples s
"""
    + EDIT_IN_FORCE_JOIN
    + """
WHERE s.revision_id=? {extra}
"""
)
_EFFECTIVE_STATUS = """CASE decision WHEN 'accept' THEN 'accepted' WHEN 'pin' THEN 'pinned'
  WHEN 'reject' THEN 'rejected' ELSE CASE WHEN edit_id IS NOT NULL THEN 'edited' ELSE base_status END END"""


_NOT_A_NUMBER = "(trim(label) = '' OR trim(label) GLOB '*[^0-9.eE+-]*' OR trim(label) GLOB '*[eE+-]*[eE+-]*[eE+-]*')"
"""1 for labels that are not plain decimal numbers (a rough test that only has to order them)."""


@dataclass(frozen=True)
class SampleRow:
    id: int
    question: str
    label: str | None
    agreement: float | None
    origin: str
    pass_rate: float | None
    status: str
    """The status in force: accepted, pinned or rejected by decision, else edited, else the pipeline's."""
    edited: bool = False
    """An edit is in force: question and label are the user's."""
    decision: str | None = None
    """accept, pin or reject in force, or None."""
    revision_id: int = 0


@dataclass(frozen=True)
class SampleQuery:
    """What the sample table shows: a status filter, a text search and a sort column."""

    status: str = "all"
    search: str = ""
    sort: str = "id"
    descending: bool = False
    low_agreement: float = 0.5


@dataclass
class SampleDetail:
    row: SampleRow
    passage: str
    generated_answer: str
    rationale: str
    votes: list[dict[str, Any]] = field(default_factory=list)
    rollouts: list[dict[str, Any]] = field(default_factory=list)
    probe: dict[str, Any] | None = None
    decisions: list[dict[str, Any]] = field(default_factory=list)


_ID_CHUNK = 500
"""Ids per `IN (...)` list, well below SQLite's limit on bound parameters."""


def _where(query: SampleQuery) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if query.status == "doubtful":
        clauses.append("agreement IS NOT NULL AND agreement < ?")
        params.append(query.low_agreement)
    elif query.status == "unscored":
        clauses.append("pass_rate IS NULL")
    elif query.status == "edited":
        clauses.append("edit_id IS NOT NULL")  # whatever decision is in force as well
    elif query.status in ORIGINS:
        clauses.append("origin = ?")
        params.append(query.status)
    elif query.status != "all":
        clauses.append("status = ?")
        params.append(query.status)
    if query.search:
        clauses.append("(question LIKE ? ESCAPE '\\' OR label LIKE ? ESCAPE '\\')")
        like = (
            "%" + query.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        params += [like, like]
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _wrapped(extra: str = "") -> str:
    return f"SELECT *, {_EFFECTIVE_STATUS} AS status FROM ({_SAMPLE_SELECT.format(extra=extra)})"


def is_plain(query: SampleQuery) -> bool:
    """No filter, no search, sorted by id: pages come straight from the samples table."""
    return query.status == "all" and not query.search and query.sort == "id"


def count_samples(store: Store, revision_id: int, query: SampleQuery = SampleQuery()) -> int:
    if query.status == "all" and not query.search:
        return int(
            store.scalar("SELECT COUNT(*) FROM samples WHERE revision_id=?", (revision_id,)) or 0
        )
    where, params = _where(query)
    sql = f"SELECT COUNT(*) FROM ({_wrapped()}){where}"
    return int(store.scalar(sql, [revision_id, *params]) or 0)


def page_ids(
    store: Store, revision_id: int, offset: int, limit: int, descending: bool = False
) -> list[int]:
    """Ids of one page of a plain query (see is_plain): an index walk, however large the pool."""
    direction = "DESC" if descending else "ASC"
    rows = store.query(
        f"SELECT id FROM samples WHERE revision_id=? ORDER BY id {direction} LIMIT ? OFFSET ?",
        (revision_id, limit, offset),
    )
    return [int(r[0]) for r in rows]


def sample_ids(store: Store, revision_id: int, query: SampleQuery) -> list[int]:
    """Every id the query matches, in its order (for filtered or sorted views, computed once per query)."""
    if query.sort not in SORT_COLUMNS:
        raise ValueError(f"unknown sort column {query.sort!r}")
    direction = "DESC" if query.descending else "ASC"
    if query.sort == "id":
        order = f"id {direction}"
    elif query.sort == "label":
        # numbers sort as numbers (2 < 10) and before text labels, which sort as text
        order = f"label IS NULL, {_NOT_A_NUMBER}, CAST(label AS REAL) {direction}, label {direction}, id"
    else:
        order = f"{query.sort} IS NULL, {query.sort} {direction}, id"
    where, params = _where(query)
    sql = f"SELECT id FROM ({_wrapped()}){where} ORDER BY {order}"
    return [int(r[0]) for r in store.query(sql, [revision_id, *params])]


def sample_rows(store: Store, revision_id: int, ids: list[int]) -> list[SampleRow]:
    """The rows of `ids`, in that order."""
    rows: dict[int, SampleRow] = {}
    for start in range(0, len(ids), _ID_CHUNK):
        chunk = ids[start : start + _ID_CHUNK]
        marks = ",".join("?" * len(chunk))
        sql = _wrapped(f"AND s.id IN ({marks})")
        rows.update((r["id"], _row(r)) for r in store.query(sql, [revision_id, *chunk]))
    return [rows[i] for i in ids if i in rows]


def sample_page(
    store: Store, revision_id: int, query: SampleQuery, offset: int, limit: int
) -> list[SampleRow]:
    """Rows `offset .. offset+limit` of the filtered, sorted pool."""
    if is_plain(query):
        ids = page_ids(store, revision_id, offset, limit, query.descending)
    else:
        ids = sample_ids(store, revision_id, query)[offset : offset + limit]
    return sample_rows(store, revision_id, ids)


def _row(r: Any) -> SampleRow:
    return SampleRow(
        r["id"],
        r["question"],
        r["label"],
        r["agreement"],
        r["origin"],
        r["pass_rate"],
        r["status"],
        r["edit_id"] is not None,
        r["decision"] if r["decision"] in ("accept", "pin", "reject") else None,
        int(r["revision_id"]),
    )


def sample_row(store: Store, sample_id: int) -> SampleRow | None:
    rev = store.scalar("SELECT revision_id FROM samples WHERE id=?", (sample_id,))
    if rev is None:
        return None
    rows = sample_rows(store, int(rev), [sample_id])
    return rows[0] if rows else None


def sample_detail(store: Store, sample_id: int) -> SampleDetail | None:
    row = sample_row(store, sample_id)
    if row is None:
        return None
    raw = store.query(
        "SELECT s.generated_answer, s.rationale, p.text AS passage FROM samples s "
        "LEFT JOIN passages p ON p.id = s.passage_id WHERE s.id=?",
        (sample_id,),
    )[0]
    votes = [
        dict(v)
        for v in store.query(
            "SELECT idx, answer, text FROM votes WHERE sample_id=? ORDER BY idx", (sample_id,)
        )
    ]
    model = store.scalar(
        "SELECT model FROM scores WHERE sample_id=? ORDER BY created_at DESC LIMIT 1", (sample_id,)
    )
    if model is None:
        model = store.scalar("SELECT model FROM rollouts WHERE sample_id=? LIMIT 1", (sample_id,))
    rollouts = [
        dict(r)
        for r in store.query(
            "SELECT idx, answer, correct, text FROM rollouts WHERE sample_id=? AND model=? ORDER BY idx",
            (sample_id, model),
        )
    ]
    probe = store.query(
        "SELECT model, answer, correct FROM probes WHERE sample_id=? LIMIT 1", (sample_id,)
    )
    decisions = [
        dict(d)
        for d in store.query(
            "SELECT id, action, question, answer, created_at FROM decisions WHERE sample_id=? ORDER BY id",
            (sample_id,),
        )
    ]
    return SampleDetail(
        row,
        raw["passage"] or "",
        raw["generated_answer"] or "",
        raw["rationale"] or "",
        votes,
        rollouts,
        dict(probe[0]) if probe else None,
        decisions,
    )


# -- curation -----------------------------------------------------------------------------------
def decide(
    store: Store,
    sample_ids: list[int],
    action: str,
    *,
    question: str | None = None,
    answer: str | None = None,
) -> int:
    """Record one decision per sample in one transaction; returns how many were written."""
    if action not in DECISION_ACTIONS:
        raise ValueError(f"unknown decision {action!r}; use one of {', '.join(DECISION_ACTIONS)}")
    now = time.time()
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO decisions(sample_id, action, question, answer, created_at) VALUES (?,?,?,?,?)",
            [(sid, action, question, answer, now) for sid in sample_ids],
        )
    return len(sample_ids)


def edit_sample(
    store: Store, sample_id: int, *, question: str | None = None, answer: str | None = None
) -> SampleRow:
    """Record an edit of one sample; a field not given keeps its text in force. Returns the row after the edit."""
    row = sample_row(store, sample_id)
    if row is None:
        raise ValueError(f"no sample {sample_id}")
    new_question = row.question if question is None else question.strip()
    if not new_question:
        raise ValueError("the question cannot be empty")
    new_answer = (row.label or "") if answer is None else answer.strip()
    decide(store, [sample_id], "edit", question=new_question, answer=new_answer)
    edited = sample_row(store, sample_id)
    assert (
        edited is not None
    )  # the sample was there a moment ago and samples are never deleted here
    return edited


def undo_decision(store: Store, sample_ids: list[int]) -> int:
    """Delete the newest decision of each sample (the previous one comes back in force); returns how many."""
    undone = 0
    with store.transaction() as conn:
        for sid in sample_ids:
            cur = conn.execute(
                "DELETE FROM decisions WHERE id=(SELECT id FROM decisions WHERE sample_id=? ORDER BY id DESC LIMIT 1)",
                (sid,),
            )
            undone += cur.rowcount
    return undone


# -- pipeline -----------------------------------------------------------------------------------
def scored_pool(store: Store, revision_id: int, model: str | None = None) -> list[dict[str, Any]]:
    """Every scored labelled sample of the revision with its pass rate (for `model`, else the newest), origin, decision."""
    # one pass over scores joined to samples; decisions are few, so their newest-per-sample is looked up once
    sql = (
        "SELECT s.id, s.origin, sc.pass_rate, sc.created_at FROM samples s JOIN scores sc ON sc.sample_id = s.id "
        "WHERE s.revision_id=? AND s.status='labelled'"
        + (" AND sc.model=?" if model else "")
        + " ORDER BY s.id, sc.created_at"
    )
    decided = {
        int(r[0]): r[1]
        for r in store.query(
            "SELECT d.sample_id, d.action FROM decisions d JOIN samples s ON s.id = d.sample_id WHERE s.revision_id=? "
            "AND d.action IN ('accept','pin','reject','clear') ORDER BY d.id",
            (revision_id,),
        )
    }
    pool: dict[int, dict[str, Any]] = {}
    for r in store.query(
        sql, (revision_id, model) if model else (revision_id,)
    ):  # the newest score per sample wins
        decision = decided.get(int(r[0]))
        pool[int(r[0])] = {
            "id": int(r[0]),
            "origin": r[1],
            "pass_rate": float(r[2]),
            "decision": None if decision == "clear" else decision,
        }
    return list(pool.values())

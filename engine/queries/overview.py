"""Counts and per-sample rows behind `sdrl status`, `sdrl stats` and the studio's pipeline screen."""

from __future__ import annotations

from typing import Any

from engine.store import Store


def has_samples(store: Store) -> bool:
    return bool(store.scalar("SELECT EXISTS(SELECT 1 FROM samples)"))


def status_counts(store: Store, revision_id: int) -> dict[str, int]:
    """Samples of the revision per pipeline status (pending, labelled, unlabelable, duplicate, contaminated)."""
    return {
        str(r["status"]): int(r["n"])
        for r in store.query(
            "SELECT status, COUNT(*) n FROM samples WHERE revision_id=? GROUP BY status ORDER BY status",
            (revision_id,),
        )
    }


def origin_counts(store: Store, revision_id: int) -> dict[str, int]:
    """Samples of the revision per origin (initial, harder, easier, manual)."""
    return {
        str(r["origin"]): int(r["n"])
        for r in store.query(
            "SELECT origin, COUNT(*) n FROM samples WHERE revision_id=? GROUP BY origin",
            (revision_id,),
        )
    }


def per_sample_count(store: Store, table: str, revision_id: int, where: str = "") -> int:
    """Rows of a per-sample table (votes, probes, rollouts, scores) for the revision's samples."""
    if table not in ("votes", "probes", "rollouts", "scores"):
        raise ValueError(f"not a per-sample table: {table!r}")
    sql = f"SELECT COUNT(*) FROM {table} x JOIN samples s ON s.id = x.sample_id WHERE s.revision_id=? {where}"
    return int(store.scalar(sql, (revision_id,)) or 0)


def latest_run(store: Store) -> dict[str, Any] | None:
    rows = store.query("SELECT * FROM runs ORDER BY created_at DESC LIMIT 1")
    return dict(rows[0]) if rows else None


def latest_scored_model(store: Store, revision_id: int) -> str | None:
    return store.scalar(
        "SELECT c.model FROM scores c JOIN samples s ON s.id=c.sample_id WHERE s.revision_id=? "
        "ORDER BY c.created_at DESC LIMIT 1",
        (revision_id,),
    )


def samples_with_pass_rate(store: Store, revision_id: int, model: str | None) -> list[Any]:
    """id, origin, round, status, agreement and the pass rate for `model` (or None) of every sample of the revision."""
    return store.query(
        "SELECT s.id, s.origin, s.round, s.status, s.agreement, c.pass_rate FROM samples s "
        "LEFT JOIN scores c ON c.sample_id = s.id AND c.model = ? WHERE s.revision_id = ?",
        (model, revision_id),
    )


def probe_counts(store: Store, revision_id: int, model: str | None) -> dict[bool, int]:
    """Probes of the revision's samples by `model`: solved (True) and unsolved (False)."""
    rows = store.query(
        "SELECT p.correct, COUNT(*) n FROM probes p JOIN samples s ON s.id=p.sample_id "
        "WHERE s.revision_id=? AND p.model=? GROUP BY p.correct",
        (revision_id, model),
    )
    return {bool(r["correct"]): int(r["n"]) for r in rows}


def selection_items(store: Store, selection_id: int) -> list[Any]:
    """split, pass rate and agreement of each item of a selection."""
    return store.query(
        "SELECT i.split, i.pass_rate, s.agreement FROM selection_items i JOIN samples s ON s.id=i.sample_id "
        "WHERE i.selection_id=?",
        (selection_id,),
    )

"""Training runs as UIs and the run manager read them: rows of the runs table and their metrics."""

from __future__ import annotations

from typing import Any

from engine.store import Store


def train_runs(store: Store) -> list[dict[str, Any]]:
    """Training runs, newest first."""
    return [
        dict(r)
        for r in store.query("SELECT * FROM runs WHERE kind='train' ORDER BY created_at DESC")
    ]


def runs_matching(store: Store, id_or_prefix: str) -> list[dict[str, Any]]:
    """Runs whose id is `id_or_prefix` or starts with it, newest first."""
    return [
        dict(r)
        for r in store.query(
            "SELECT * FROM runs WHERE id=? OR id LIKE ? ORDER BY created_at DESC",
            (id_or_prefix, f"{id_or_prefix}%"),
        )
    ]


def run(store: Store, run_id: str) -> dict[str, Any] | None:
    rows = store.query("SELECT * FROM runs WHERE id=?", (run_id,))
    return dict(rows[0]) if rows else None


def run_metrics_since(
    store: Store, run_id: str, after_rowid: int = 0
) -> tuple[list[tuple[int, str, float]], int]:
    """New metric rows (step, name, value) after `after_rowid`, and the rowid to pass next time."""
    rows = store.query(
        "SELECT rowid, step, name, value FROM run_metrics WHERE run_id=? AND rowid>? ORDER BY rowid",
        (run_id, after_rowid),
    )
    last = int(rows[-1]["rowid"]) if rows else after_rowid
    return [(int(r["step"]), str(r["name"]), float(r["value"])) for r in rows], last

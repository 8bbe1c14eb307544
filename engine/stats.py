"""Pipeline statistics for a revision as plain data: pass-rate histograms, probe and rewrite counts, the selection."""

from __future__ import annotations

import json
from typing import Any

from engine.errors import SdrlError
from engine.selection import histogram, spread
from engine.store import Store

BINS = 10
ARTIFACT_STAGE = "stats"
ARTIFACT_KEY = "summary"


def _model_key(store: Store, revision_id: int) -> tuple[str | None, float]:
    """The revision's base-model key and low-agreement threshold (from its task text), else the latest scored model."""
    revision = store.revision(revision_id)
    low = 0.5
    if revision is not None:
        try:
            from engine.backends.solver import model_key
            from engine.config import parse_task

            task = parse_task(revision.content)
            return model_key(task), task.generation.low_agreement
        except SdrlError:
            pass
    key = store.scalar(
        "SELECT c.model FROM scores c JOIN samples s ON s.id=c.sample_id WHERE s.revision_id=? "
        "ORDER BY c.created_at DESC LIMIT 1",
        (revision_id,),
    )
    return key, low


def compute_stats(store: Store, revision_id: int) -> dict[str, Any]:
    """Everything `sdrl stats` and the studio show about stages 6-9 of one revision."""
    model, low = _model_key(store, revision_id)
    rows = store.query(
        "SELECT s.id, s.origin, s.round, s.status, s.agreement, c.pass_rate FROM samples s "
        "LEFT JOIN scores c ON c.sample_id = s.id AND c.model = ? WHERE s.revision_id = ?",
        (model, revision_id),
    )
    usable = [r for r in rows if r["status"] == "labelled"]
    initial = [r["pass_rate"] for r in usable if r["round"] == 0 and r["pass_rate"] is not None]
    whole = [r["pass_rate"] for r in usable if r["pass_rate"] is not None]
    probes = store.query(
        "SELECT p.correct, COUNT(*) n FROM probes p JOIN samples s ON s.id=p.sample_id "
        "WHERE s.revision_id=? AND p.model=? GROUP BY p.correct",
        (revision_id, model),
    )
    probe_counts = {bool(r["correct"]): int(r["n"]) for r in probes}
    rewrites: dict[str, dict[str, int]] = {}
    for direction in ("harder", "easier"):
        mine = [r for r in rows if r["origin"] == direction]
        by_status: dict[str, int] = {}
        for r in mine:
            by_status[r["status"]] = by_status.get(r["status"], 0) + 1
        rewrites[direction] = {"produced": len(mine), **by_status}
    return {
        "revision": revision_id,
        "model": model,
        "samples": {"total": len(rows), "labelled": len(usable), "scored": len(whole)},
        "probe": {"solved": probe_counts.get(True, 0), "unsolved": probe_counts.get(False, 0)},
        "rewrites": rewrites,
        "pass_rate": {
            "bins": [round(i / BINS, 2) for i in range(BINS + 1)],
            "before_adaptation": histogram(initial, BINS),
            "after_adaptation": histogram(whole, BINS),
            "initial": spread(initial),
            "pool": spread(whole),
        },
        "selection": _selection(store, revision_id, low),
    }


def _selection(store: Store, revision_id: int, low: float) -> dict[str, Any] | None:
    latest = store.conn.execute(
        "SELECT * FROM selections WHERE revision_id=? ORDER BY id DESC LIMIT 1", (revision_id,)
    ).fetchone()
    if latest is None:
        return None
    items = store.query(
        "SELECT i.split, i.pass_rate, s.agreement FROM selection_items i JOIN samples s ON s.id=i.sample_id "
        "WHERE i.selection_id=?",
        (latest["id"],),
    )
    train = [r for r in items if r["split"] == "train"]
    agreement = [r["agreement"] for r in train if r["agreement"] is not None]
    return {
        "id": latest["id"],
        "rule": latest["rule"],
        "params": json.loads(latest["params"]),
        "train": len(train),
        "val": len(items) - len(train),
        "pass_rate": spread([r["pass_rate"] for r in train if r["pass_rate"] is not None]),
        "pass_rate_histogram": histogram(
            [r["pass_rate"] for r in train if r["pass_rate"] is not None], BINS
        ),
        "agreement": spread(agreement)
        | {"below_threshold": sum(1 for a in agreement if a < low), "threshold": low},
    }


def save_stats(store: Store, revision_id: int) -> dict[str, Any]:
    """Compute the stats and keep them as the revision's `stats/summary` artifact."""
    stats = compute_stats(store, revision_id)
    with store.transaction() as conn:
        store.put_artifact(conn, revision_id, ARTIFACT_STAGE, ARTIFACT_KEY, json.dumps(stats))
    return stats

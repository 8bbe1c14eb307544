"""Pipeline statistics for a revision as plain data: pass-rate histograms, probe and rewrite counts, the selection."""

from __future__ import annotations

import json
from typing import Any

from engine.errors import SdrlError
from engine.queries.overview import (
    latest_scored_model,
    probe_counts,
    samples_with_pass_rate,
    selection_items,
)
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
    return latest_scored_model(store, revision_id), low


def compute_stats(store: Store, revision_id: int) -> dict[str, Any]:
    """Everything `sdrl stats` and the studio show about stages 6-9 of one revision."""
    model, low = _model_key(store, revision_id)
    rows = samples_with_pass_rate(store, revision_id, model)
    usable = [r for r in rows if r["status"] == "labelled"]
    initial = [r["pass_rate"] for r in usable if r["round"] == 0 and r["pass_rate"] is not None]
    whole = [r["pass_rate"] for r in usable if r["pass_rate"] is not None]
    probes = probe_counts(store, revision_id, model)
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
        "probe": {"solved": probes.get(True, 0), "unsolved": probes.get(False, 0)},
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
    items = selection_items(store, latest["id"])
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

"""Counts per stage for a workspace's current revision, as plain data for the CLI and the studio."""

from __future__ import annotations

from typing import Any

from engine.queries.overview import (
    latest_run,
    origin_counts,
    per_sample_count,
    status_counts,
)
from engine.workspace import Workspace


def workspace_status(workspace: Workspace) -> dict[str, Any]:
    revision, task = workspace.current_revision()
    store = workspace.store
    rid = revision.id

    def count(sql: str, *params: Any) -> int:
        return int(store.scalar(sql, params) or 0)

    by_status = status_counts(store, rid)
    by_origin = origin_counts(store, rid)
    latest_selection = store.query(
        "SELECT id, rule FROM selections WHERE revision_id=? ORDER BY id DESC LIMIT 1", (rid,)
    )
    selection: dict[str, Any] = {
        "selections": count("SELECT COUNT(*) FROM selections WHERE revision_id=?", rid)
    }
    if latest_selection:
        sid = latest_selection[0]["id"]
        selection.update(
            latest=sid,
            rule=latest_selection[0]["rule"],
            train=count(
                "SELECT COUNT(*) FROM selection_items WHERE selection_id=? AND split='train'", sid
            ),
            val=count(
                "SELECT COUNT(*) FROM selection_items WHERE selection_id=? AND split='val'", sid
            ),
        )
    run = latest_run(store)
    return {
        "workspace": str(workspace.root),
        "task": task.name,
        "revision": rid,
        "revisions": count("SELECT COUNT(*) FROM revisions"),
        "corpus": {
            "documents": count("SELECT COUNT(*) FROM documents"),
            "passages": count("SELECT COUNT(*) FROM passages"),
        },
        "stages": {
            "generate": {
                "samples": sum(by_origin.values()),
                **{f"origin_{k}": v for k, v in by_origin.items()},
                "failures": count(
                    "SELECT COUNT(*) FROM failures WHERE revision_id=? AND stage='generate'", rid
                ),
            },
            "label": {
                **by_status,
                "votes": per_sample_count(store, "votes", rid),
            },
            "probe": {
                "probed": per_sample_count(store, "probes", rid),
                "solved": per_sample_count(store, "probes", rid, "AND x.correct=1"),
            },
            "score": {
                "scored": per_sample_count(store, "scores", rid),
                "rollouts": per_sample_count(store, "rollouts", rid),
            },
            "select": selection,
        },
        "latest_run": run | {"config": None} if run else None,
    }

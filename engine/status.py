"""Counts per stage for a workspace's current revision, as plain data for the CLI and the studio."""

from __future__ import annotations

from typing import Any

from engine.workspace import Workspace


def workspace_status(workspace: Workspace) -> dict[str, Any]:
    revision, task = workspace.current_revision()
    store = workspace.store
    rid = revision.id

    def count(sql: str, *params: Any) -> int:
        return int(store.scalar(sql, params) or 0)

    by_status = {
        row["status"]: row["n"]
        for row in store.query(
            "SELECT status, COUNT(*) n FROM samples WHERE revision_id=? GROUP BY status", (rid,)
        )
    }
    by_origin = {
        row["origin"]: row["n"]
        for row in store.query(
            "SELECT origin, COUNT(*) n FROM samples WHERE revision_id=? GROUP BY origin", (rid,)
        )
    }
    sample_join = "JOIN samples s ON s.id = x.sample_id WHERE s.revision_id=?"
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
    run = store.query("SELECT * FROM runs ORDER BY created_at DESC LIMIT 1")
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
                "votes": count(f"SELECT COUNT(*) FROM votes x {sample_join}", rid),
            },
            "probe": {
                "probed": count(f"SELECT COUNT(*) FROM probes x {sample_join}", rid),
                "solved": count(
                    f"SELECT COUNT(*) FROM probes x {sample_join} AND x.correct=1", rid
                ),
            },
            "score": {
                "scored": count(f"SELECT COUNT(*) FROM scores x {sample_join}", rid),
                "rollouts": count(f"SELECT COUNT(*) FROM rollouts x {sample_join}", rid),
            },
            "select": selection,
        },
        "latest_run": dict(run[0]) | {"config": None} if run else None,
    }

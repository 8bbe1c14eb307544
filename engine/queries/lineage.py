"""A sample's lineage: the chain of rewrites from its initial sample down to it (adaptation links parents)."""

from __future__ import annotations

from typing import Any

from engine.store import Store


def lineage(store: Store, sample_id: int) -> list[dict[str, Any]]:
    """Root first, `sample_id` last: id, origin, round, question, label, agreement, status and latest pass rate."""
    chain: list[dict[str, Any]] = []
    seen: set[int] = set()
    current: int | None = sample_id
    while current is not None and current not in seen:
        seen.add(current)
        row = store.conn.execute(
            "SELECT s.id, s.origin, s.parent_id, s.round, s.question, s.label, s.agreement, s.status, "
            "(SELECT pass_rate FROM scores c WHERE c.sample_id = s.id ORDER BY created_at DESC LIMIT 1) AS pass_rate, "
            "(SELECT correct FROM probes p WHERE p.sample_id = s.id ORDER BY created_at DESC LIMIT 1) AS solved "
            "FROM samples s WHERE s.id=?",
            (current,),
        ).fetchone()
        if row is None:
            break
        chain.append(dict(row))
        current = row["parent_id"]
    chain.reverse()
    return chain


def children(store: Store, sample_id: int) -> list[int]:
    """Ids of the rewrites made from a sample."""
    return [
        r[0]
        for r in store.query("SELECT id FROM samples WHERE parent_id=? ORDER BY id", (sample_id,))
    ]

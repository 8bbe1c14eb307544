"""How many samples a selection rule would keep, for the live band preview: engine.selection over the scored pool."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.selection import RULES

__all__ = ["RULES", "preview_selection"]


def preview_selection(
    pool: Sequence[dict[str, Any]],
    rule: str,
    band: tuple[float, float],
    m: int,
    validation_share: float = 0.0,
    seed: int = 0,
) -> tuple[int, int]:
    """(train, val) counts the rule would select from `pool` (dicts with id, pass_rate, decision); nothing is written."""
    from engine.selection import Candidate, select

    candidates = [Candidate(s["id"], s["pass_rate"], s.get("decision")) for s in pool]
    chosen = select(
        candidates, rule=rule, m=m, band=band, validation_share=validation_share, seed=seed
    )
    return len(chosen.train), len(chosen.val)

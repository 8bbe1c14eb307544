"""Selections as training, export and eval read them: each selected sample with the text and decision in force."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.pool import DECISION_IN_FORCE_JOIN, EDIT_IN_FORCE_JOIN, TEXT_IN_FORCE
from engine.store import Store

_SELECTED_SQL = (
    """
SELECT s.id, s.origin, s.agreement, s.revision_id, si.split, si.pass_rate, d.action AS decision, """
    + TEXT_IN_FORCE
    + """
FROM selection_items si JOIN samples s ON s.id = si.sample_id"""
    + DECISION_IN_FORCE_JOIN
    + EDIT_IN_FORCE_JOIN
    + """
WHERE si.selection_id = ? AND si.split IN ({splits})
ORDER BY si.split, s.id
"""
)


@dataclass(frozen=True)
class SelectedSample:
    """A selected sample as it trains: the question and label in force (an edit's, else the generated ones)."""

    sample_id: int
    question: str
    label: str
    split: str
    origin: str
    pass_rate: float | None
    agreement: float | None
    revision_id: int


def latest_selection_id(store: Store, revision_id: int) -> int | None:
    return store.scalar(
        "SELECT id FROM selections WHERE revision_id=? ORDER BY id DESC LIMIT 1", (revision_id,)
    )


def selected_samples(
    store: Store, selection_id: int, splits: Sequence[str] = ("train",)
) -> list[SelectedSample]:
    """The samples of `selection_id` in `splits` (by split, then id), with edits applied.

    Rejected samples and samples without a label in force are left out: the same rules as the studio's
    sample table and the pool (engine.pool), so what the user curates is what trains, exports and is evaluated.
    """
    marks = ",".join("?" for _ in splits)
    kept: list[SelectedSample] = []
    for r in store.query(_SELECTED_SQL.format(splits=marks), (selection_id, *splits)):
        if r["decision"] == "reject" or r["label"] is None or not str(r["label"]).strip():
            continue
        kept.append(
            SelectedSample(
                int(r["id"]),
                r["question"],
                str(r["label"]),
                r["split"],
                r["origin"],
                r["pass_rate"],
                r["agreement"],
                int(r["revision_id"]),
            )
        )
    return kept

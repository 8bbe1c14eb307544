"""Label calibration: how often the instructor's majority is right at each agreement level, and the threshold to suggest.

Pure functions over (agreement, correct) pairs; `sdrl instructor check` and the studio's Eval screen show the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)
"""Agreement levels of the table: each row counts the labels whose agreement is at least the level."""
TARGET_ACCURACY = 0.8
MIN_ITEMS = 5
"""A level is only suggested when at least this many labels reach it (a rate over 2 items says little)."""


@dataclass(frozen=True)
class LabelCheck:
    """One benchmark question labelled by vote: the winning share, and whether the label equals the gold answer."""

    agreement: float
    correct: bool
    """False also when no vote was parseable (no label at all)."""


@dataclass(frozen=True)
class CalibrationRow:
    level: float
    labels: int
    """Labels with agreement >= level."""
    correct: int
    share: float
    """labels / all questions: how many a threshold at this level would keep."""

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.labels if self.labels else None


def calibration_table(
    checks: Sequence[LabelCheck], levels: Sequence[float] = LEVELS
) -> list[CalibrationRow]:
    """One row per level: labels at or above it, how many of them are right, and the share of questions kept."""
    total = len(checks)
    rows = []
    for level in levels:
        kept = [c for c in checks if c.agreement >= level - 1e-9]
        rows.append(
            CalibrationRow(
                level=level,
                labels=len(kept),
                correct=sum(c.correct for c in kept),
                share=len(kept) / total if total else 0.0,
            )
        )
    return rows


def suggest_threshold(
    rows: Sequence[CalibrationRow],
    target: float = TARGET_ACCURACY,
    min_items: int = MIN_ITEMS,
) -> float | None:
    """The lowest level at which the majority is right at least `target` of the time (over >= min_items labels).

    None when no level gets there: the instructor is not good enough for the task at any agreement.
    """
    for row in sorted(rows, key=lambda r: r.level):
        accuracy = row.accuracy
        if row.labels >= min_items and accuracy is not None and accuracy >= target:
            return row.level
    return None

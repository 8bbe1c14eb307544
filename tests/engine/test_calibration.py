"""Label calibration by agreement level and the suggested low_agreement threshold (pure, hand-checked)."""

from __future__ import annotations

import pytest

from engine.calibration import LabelCheck, calibration_table, suggest_threshold


def _checks() -> list[LabelCheck]:
    # 4 unanimous (all right), 3 at 0.75 (2 right), 2 at 0.5 (0 right), 1 at 0.25 (wrong)
    return (
        [LabelCheck(1.0, True)] * 4
        + [LabelCheck(0.75, True)] * 2
        + [LabelCheck(0.75, False)]
        + [LabelCheck(0.5, False)] * 2
        + [LabelCheck(0.25, False)]
    )


def test_table_counts_labels_at_or_above_each_level() -> None:
    rows = {r.level: r for r in calibration_table(_checks())}
    assert (rows[0.0].labels, rows[0.0].correct, rows[0.0].share) == (10, 6, 1.0)
    assert (rows[0.5].labels, rows[0.5].correct) == (9, 6)
    assert (rows[0.75].labels, rows[0.75].correct) == (7, 6)
    assert rows[0.75].accuracy == pytest.approx(6 / 7)
    assert (rows[1.0].labels, rows[1.0].correct, rows[1.0].share) == (4, 4, 0.4)


def test_suggests_the_lowest_level_that_reaches_the_target() -> None:
    rows = calibration_table(_checks())
    assert suggest_threshold(rows, target=0.8) == 0.75  # 6/7 = 86%; at 0.5 only 6/9 = 67%
    assert suggest_threshold(rows, target=0.6) == 0.0  # 6/10 overall
    # unanimous labels are all right but there are only 4 of them: too few to suggest
    assert suggest_threshold(rows, target=0.9, min_items=5) is None
    assert suggest_threshold(rows, target=0.9, min_items=4) == 1.0


def test_empty_and_hopeless_instructors_get_no_suggestion() -> None:
    assert suggest_threshold(calibration_table([])) is None
    wrong = [LabelCheck(1.0, False)] * 10
    rows = calibration_table(wrong)
    assert rows[-1].accuracy == 0.0
    assert suggest_threshold(rows) is None

"""bench/report.py: percentiles, spreads, saved rows read back with their date, and the table marking missed goals."""

from __future__ import annotations

import json

import pytest

from bench import report
from bench.report import Result


def test_percentile_interpolates_between_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert report.percentile(values, 0) == 1.0
    assert report.percentile(values, 50) == 2.5
    assert report.percentile(values, 100) == 4.0
    assert report.percentile(list(range(1, 21)), 95) == pytest.approx(19.05)
    with pytest.raises(ValueError):
        report.percentile([], 50)


def test_spread_names_the_range_and_the_rounds() -> None:
    assert report.spread([1.02, 0.98, 1.1]) == "0.98-1.10 over 3 rounds"
    assert report.spread([1.0]) == "1 round"
    assert report.spread([]) == ""
    assert report.spread([0.9, 1.1], unit="samples") == "0.90-1.10 over 2 samples"


def test_saved_rows_come_back_noting_when_they_were_measured(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(report, "BENCH_DIR", tmp_path)
    assert report.load_rows("learning") == []
    row = Result("learning", "held-out accuracy", "41.0%", "38.5%", note="3 seeds")
    path = report.save_rows("learning", [row])
    assert path == tmp_path / "learning.results.json"
    assert "date" in json.loads(path.read_text())
    (back,) = report.load_rows("learning")
    assert (back.bench, back.ours, back.baseline) == ("learning", "41.0%", "38.5%")
    assert back.note.startswith("3 seeds; measured ")


def test_tables_show_missed_goals_and_spread(tmp_path) -> None:
    rows = [
        Result(
            "train",
            "step time",
            "210 ms",
            "200 ms",
            1.05,
            "<= 1.05",
            True,
            "1.01-1.08 over 3 rounds",
        ),
        Result("score", "rollouts/s", "1.1/s", "1.0/s", 1.1, ">= 1.5", False),
        Result("startup", "sdrl --help", "180 ms"),
    ]
    md = report.markdown_table(rows)
    assert (
        "| train: step time | 210 ms | 200 ms | 1.05 (1.01-1.08 over 3 rounds) | <= 1.05 | yes |"
        in md
    )
    assert "**MISSED**" in md.splitlines()[3]
    assert md.splitlines()[4].endswith("| - | - | - |")
    text = report.text_table(rows)
    assert "MISSED" in text and "**" not in text
    out = tmp_path / "rows.json"
    report.write_rows(out, rows)
    assert report.read_rows(out) == rows

"""Preflight: zero-variance arithmetic, reward sanity on gold/wrong answers, empty data, and the CLI check."""

from __future__ import annotations

import pytest

from engine.answers import NumericChecker
from engine.config import TaskDefinition
from engine.errors import RunError
from engine.training.data import Row
from engine.training.preflight import preflight, wrong_answer, zero_variance_share


def _task(**extra: object) -> TaskDefinition:
    return TaskDefinition.model_validate(
        {
            "name": "t",
            "description": "math",
            "output_format": "#### N",
            "answer_type": "numeric",
            **extra,
        }
    )


def _rows(labels: list[str], rate: float = 0.5) -> list[Row]:
    return [
        Row(f"Q{i}? Answer:", label, f"Q{i}?", i, "train", "manual", rate, 1.0, 1)
        for i, label in enumerate(labels)
    ]


def test_zero_variance_share_by_hand() -> None:
    assert zero_variance_share([0.5], 2) == pytest.approx(0.5)  # 0.25 + 0.25
    assert zero_variance_share([0.0, 1.0], 16) == pytest.approx(1.0)
    assert zero_variance_share([0.5, 0.1], 4) == pytest.approx(
        ((0.5**4 * 2) + (0.1**4 + 0.9**4)) / 2
    )
    assert zero_variance_share([], 4) == 0.0


def test_wrong_answer_is_never_equivalent() -> None:
    checker = NumericChecker()
    for gold in ("0", "42", "-3", "2.5"):
        assert not checker.equivalent(wrong_answer(checker, gold, [gold]), gold)


def test_good_data_passes_and_reports_facts() -> None:
    pre = preflight(
        _task(), _rows(["12", "0", "1,000", "3.5"], rate=0.25), "unused", need_model=False
    )
    assert pre.ok, pre.problems
    assert pre.facts["mode"] in ("CPU", "GPU")
    assert pre.facts["zero_variance_share"] == pytest.approx(0.25**16 + 0.75**16, abs=1e-3)


def test_empty_training_split_is_an_error() -> None:
    pre = preflight(_task(), [], "unused", need_model=False)
    assert not pre.ok
    with pytest.raises(RunError, match="empty"):
        pre.raise_if_failed()


def test_label_the_checker_cannot_read_is_an_error() -> None:
    pre = preflight(
        _task(answer_type="multiple_choice"), _rows(["B", "banana"]), "unused", need_model=False
    )
    assert not pre.ok
    assert any("gold answer of 1 sample" in p.title for p in pre.problems)


def test_many_zero_variance_groups_warn() -> None:
    pre = preflight(_task(), _rows(["1", "2"], rate=0.99), "unused", need_model=False)
    assert pre.ok
    assert any(p.level == "warning" and "zero reward variance" in p.title for p in pre.problems)


def test_levels_ok_warning_blocker() -> None:
    """Issue 12 item 3: "preflight ok" beside "about 100% ... no learning signal" is over."""
    good = preflight(_task(), _rows(["1", "2"], rate=0.5), "unused", need_model=False)
    assert good.level == "ok"
    some = preflight(_task(), _rows(["1", "2"], rate=0.99), "unused", need_model=False)
    assert some.level == "warning" and some.ok
    none = preflight(_task(), _rows(["1", "2"], rate=1.0), "unused", need_model=False)
    assert none.level == "blocker" and not none.ok
    blocker = next(p for p in none.problems if p.level == "blocker")
    assert "learn nothing" in blocker.title and blocker.forceable
    for advice in ("selection.rule", "scoring.k", "bigger base model"):
        assert advice in blocker.hint
    with pytest.raises(RunError, match="blocked") as raised:
        none.raise_if_failed()
    assert "--force" in raised.value.hint
    none.raise_if_failed(force=True)  # a forceable blocker lets a forced launch through


def test_force_never_overrides_a_hard_blocker() -> None:
    pre = preflight(_task(), [], "unused", need_model=False)
    with pytest.raises(RunError, match="empty") as raised:
        pre.raise_if_failed(force=True)
    assert "--force" not in raised.value.hint


def test_cli_check_without_selection_fails_with_a_fix(workspace, sdrl) -> None:
    result = sdrl("-w", str(workspace.root), "train", "--check")
    assert result.returncode == 2
    assert "No selection" in result.stderr and "fix:" in result.stderr


@pytest.mark.slow
def test_cli_check_on_tiny_workspace(tmp_path, sdrl) -> None:
    from engine.tiny import tiny_workspace

    ws = tiny_workspace(tmp_path / "tw")
    result = sdrl("-w", str(ws.root), "train", "--check")
    assert result.returncode == 0, result.stderr
    assert "preflight: " in result.stdout and "preflight: blocker" not in result.stdout
    assert "memory_estimate_gb" in result.stdout
    ws.close()


def test_a_raising_checker_is_reported_before_compute(monkeypatch) -> None:
    from engine.answers import CustomChecker
    from engine.training import preflight as module

    def broken(text: str) -> str:
        raise KeyError("no")

    monkeypatch.setattr(module, "task_checker", lambda task: CustomChecker(broken))
    pre = preflight(_task(), _rows(["1"]), "unused", need_model=False)
    assert not pre.ok
    assert any("raised KeyError" in p.title for p in pre.problems)

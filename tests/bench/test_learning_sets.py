"""The learning study's held-out data: computed answers, distinct items, a fixed draw, and the overlap check."""

from __future__ import annotations

from bench.learning_sets import exact_test_set, overlap, true_answer
from engine.evaluate import Item


def test_exact_set_is_computed_distinct_and_fixed() -> None:
    items = exact_test_set(200)
    assert len(items) == 200 and len({it.question for it in items}) == 200
    assert items == exact_test_set(200)  # its own seed: the same set for every study seed
    for it in items:
        a, op, b = it.question.removeprefix("What is ").removesuffix("?").split()
        assert int(it.gold) == (int(a) + int(b) if op == "+" else int(a) - int(b))
        assert int(it.gold) >= 0


def test_true_answer_reads_only_plain_arithmetic() -> None:
    assert true_answer("What is 12 - 5?") == 7
    assert true_answer("  what is 3+4 ") == 7
    assert true_answer("Sam has 3 apples and buys 4 more. How many?") is None
    assert true_answer("What is __import__('os')?") is None


def test_overlap_finds_generated_copies_of_test_items() -> None:
    test = [Item("What is 2 + 3?", "5"), Item("What is 9 - 1?", "8")]
    assert overlap(test, ["what is  2 + 3?", "What is 2 + 4?"]) == ["What is 2 + 3?"]
    assert overlap(test, []) == []


def test_intervals_hand_checked() -> None:
    from bench.learning import interval, wilson

    # 3 seeds, changes 0.1, 0.2, 0.3: mean 0.2, sd 0.1, half-width 4.303 * 0.1 / sqrt(3) = 0.248
    assert interval([0.1, 0.2, 0.3]) == "+20.0% ± 24.8% (95% CI [-4.8%, +44.8%], 3 seeds)"
    assert "no interval" in interval([0.05])
    assert wilson(0, 0) == "-"
    assert wilson(5, 10) == "50.0% [23.7%, 76.3%]"

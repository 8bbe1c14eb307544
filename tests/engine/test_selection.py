"""Pass rate, every selection rule, user overrides and the validation split, checked by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.selection import Candidate, histogram, pass_rate, select, spread


def ids(cands) -> list[int]:
    return [c.sample_id for c in cands]


POOL = [
    Candidate(1, 0.0),
    Candidate(2, 0.25),
    Candidate(3, 0.5),
    Candidate(4, 1.0),
    Candidate(5, 0.125),
    Candidate(6, 0.875),
    Candidate(7, None),  # not scored
]


def test_pass_rate() -> None:
    assert pass_rate(3, 4) == 0.75
    assert pass_rate(0, 64) == 0.0
    assert pass_rate(8, 8) == 1.0
    with pytest.raises(ValueError):
        pass_rate(1, 0)
    with pytest.raises(ValueError):
        pass_rate(5, 4)


def test_paper_rule_keeps_zero_to_one_exclusive_hardest_first() -> None:
    chosen = select(POOL, rule="paper", m=3)
    assert ids(chosen.train) == [
        5,
        2,
        3,
    ]  # 0.125, 0.25, 0.5; never p=0 (1), p=1 (4) or unscored (7)
    assert chosen.val == ()
    assert ids(select(POOL, rule="paper", m=10).train) == [5, 2, 3, 6]


def test_band_rule_is_inclusive() -> None:
    assert ids(select(POOL, rule="band", m=10, band=(0.25, 0.875)).train) == [2, 3, 6]
    assert ids(select(POOL, rule="band", m=10, band=(0.0, 0.0)).train) == [1]
    with pytest.raises(ValueError, match="above"):
        select(POOL, rule="band", m=10, band=(0.8, 0.2))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        select(POOL, rule="band", m=10, band=(0.0, 1.5))


def test_easy_hard_all() -> None:
    assert ids(select(POOL, rule="easy", m=3).train) == [4, 6, 3]
    assert ids(select(POOL, rule="hard", m=3).train) == [1, 5, 2]
    assert ids(select(POOL, rule="all", m=1).train) == [1, 2, 3, 4, 5, 6]  # M does not cut "all"


def test_ties_break_by_sample_id() -> None:
    pool = [Candidate(9, 0.5), Candidate(3, 0.5), Candidate(5, 0.5)]
    assert ids(select(pool, rule="paper", m=2).train) == [3, 5]


def test_user_decisions_win() -> None:
    pool = [
        Candidate(1, 0.0, "pin"),  # the rule would never pick p=0: pinned, so in
        Candidate(2, 0.25, "reject"),  # the rule's first pick: rejected, so out
        Candidate(3, 0.5),
        Candidate(4, None, "accept"),  # unscored but accepted: in
        Candidate(5, 0.75),
    ]
    chosen = select(pool, rule="paper", m=3)
    assert ids(chosen.train) == [1, 4, 3]  # forced first, then the rule fills M
    assert 2 not in ids(chosen.train) + ids(chosen.val)
    # forced samples stay in even when they exceed M
    assert ids(select(pool, rule="paper", m=1).train) == [1, 4]
    # a rejected sample never shows up, under any rule
    for rule in ("paper", "band", "easy", "hard", "all"):
        got = select(pool, rule=rule, m=10)
        assert 2 not in ids(got.train) + ids(got.val)


def test_validation_split_is_seeded_disjoint_and_never_forced() -> None:
    pool = [Candidate(i, 0.1 + i / 100) for i in range(1, 41)] + [Candidate(100, 0.5, "pin")]
    a = select(pool, rule="paper", m=20, validation_share=0.25, seed=7)
    b = select(pool, rule="paper", m=20, validation_share=0.25, seed=7)
    c = select(pool, rule="paper", m=20, validation_share=0.25, seed=8)
    assert a == b
    assert ids(a.val) != ids(c.val)
    assert len(a.val) == 5  # round(0.25 * 20)
    assert len(a.train) == 20  # M, the pinned one included
    assert not set(ids(a.val)) & set(ids(a.train))
    assert 100 in ids(a.train) and 100 not in ids(a.val)


def test_validation_leaves_something_to_train_on() -> None:
    chosen = select([Candidate(1, 0.5)], rule="paper", m=5, validation_share=0.9)
    assert ids(chosen.train) == [1] and chosen.val == ()


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown rule"):
        select(POOL, rule="median")
    with pytest.raises(ValueError, match="M must"):
        select(POOL, m=0)


def test_histogram_and_spread() -> None:
    assert histogram([0.0, 0.05, 0.1, 0.55, 0.99, 1.0]) == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    assert histogram([]) == [0] * 10
    s = spread([0.25, 0.5, 0.75, 1.0])
    assert (s["min"], s["max"], s["mean"], s["median"]) == (0.25, 1.0, 0.625, 0.625)
    assert spread([])["mean"] is None


@given(
    st.lists(
        st.tuples(st.integers(0, 8), st.sampled_from([None, "accept", "pin", "reject"])),
        max_size=40,
    ),
    st.integers(1, 30),
    st.sampled_from(["paper", "band", "easy", "hard", "all"]),
)
def test_selection_invariants(items, m, rule) -> None:
    pool = [Candidate(i, passed / 8, decision) for i, (passed, decision) in enumerate(items)]
    chosen = select(pool, rule=rule, m=m, band=(0.25, 0.75), validation_share=0.2, seed=1)
    train, val = ids(chosen.train), ids(chosen.val)
    forced = {c.sample_id for c in pool if c.decision in ("accept", "pin")}
    rejected = {c.sample_id for c in pool if c.decision == "reject"}
    assert forced <= set(train)
    assert not rejected & (set(train) | set(val))
    assert not set(train) & set(val)
    assert len(set(train)) == len(train)
    if rule != "all":
        assert len(train) <= max(m, len(forced))
    if rule == "paper":
        assert all(
            0 < (c.pass_rate or 0) < 1
            for c in chosen.train + chosen.val
            if c.sample_id not in forced
        )


def test_every_rule_name_has_a_ranker_and_config_accepts_it() -> None:
    from engine.config import SelectionSettings
    from engine.selection import RANKERS, RULES

    assert set(RULES) == set(RANKERS)
    for rule in RULES:
        assert SelectionSettings(rule=rule).rule == rule

"""Answer extraction and majority vote, checked by hand."""

from __future__ import annotations

from engine.answers import (
    ChoiceChecker,
    ExactChecker,
    MathChecker,
    NumericChecker,
    is_correct,
    majority_vote,
)


def test_numeric_takes_the_number_after_the_last_hashes() -> None:
    c = NumericChecker()
    assert c.extract("so 3+4=7\n#### 7") == "7"
    assert c.extract("#### 1\nwait, no\n#### $1,234.50") == "1234.5"
    assert c.extract("#### 0") == "0"  # zero is an answer, not "falsy"
    assert c.extract("the answer is 12") is None
    assert c.extract("####") is None
    assert c.equivalent("3.0001", "3") and not c.equivalent("3.01", "3")


def test_reward_reads_the_completion_only() -> None:
    c = NumericChecker()
    # a prompt that shows the format must not give credit: only the completion is passed in
    assert not is_correct(c, "I think it is 5", "5")
    assert is_correct(c, "5 apples\n#### 5", "5")


def test_math_uses_last_boxed_and_equivalence() -> None:
    c = MathChecker()
    assert c.extract(r"first \boxed{1} then \boxed{\frac{1}{2}}") == r"\frac{1}{2}"
    assert c.extract(r"\boxed{x^{2}}") == "x^{2}"
    assert c.extract("no box") is None
    assert c.equivalent(r"\frac{1}{2}", "0.5")
    assert not c.equivalent("2", "3")


def test_choice_and_exact_read_the_last_answer_tag() -> None:
    c = ChoiceChecker()
    assert c.extract("<answer>A</answer> hmm <answer> c </answer>") == "C"
    assert c.extract("<answer>E</answer>") is None
    assert c.extract("B") is None
    e = ExactChecker()
    assert e.extract("<answer>  Aspirin  </answer>") == "Aspirin"
    assert e.equivalent("aspirin.", "Aspirin")


def test_majority_vote_counts_unparseable_votes_in_agreement() -> None:
    m = majority_vote(NumericChecker(), ["4", "4.0", "5", None])
    assert m.answer == "4"
    assert m.agreement == 0.5
    assert m.unparseable == 1
    assert dict(m.counts) == {"4": 2, "5": 1}


def test_majority_vote_tie_goes_to_first_seen_and_none_when_nothing_parses() -> None:
    assert majority_vote(NumericChecker(), ["5", "4"]).answer == "5"
    empty = majority_vote(NumericChecker(), [None, None])
    assert empty.answer is None and empty.agreement == 0.0


def test_math_equivalence_in_a_worker_thread() -> None:
    """The studio checks answers in worker threads, where math-verify's signal alarm cannot be used."""
    import threading

    checker = MathChecker()
    results: dict[str, object] = {}

    def check() -> None:
        try:
            results["half"] = checker.equivalent("1/2", "\\frac{1}{2}")
            results["third"] = checker.equivalent("1/3", "\\frac{1}{2}")
            results["root"] = checker.equivalent("\\sqrt{4}", "2")
            results["tower"] = checker.equivalent("9^{9^{9^{9}}}", "1")  # bounded: compared as text
        except Exception as exc:  # noqa: BLE001 - the test reports whatever escaped the thread
            results["error"] = exc

    worker = threading.Thread(target=check)
    worker.start()
    worker.join()
    assert results == {"half": True, "third": False, "root": True, "tower": False}
    assert checker.equivalent(
        "1/2", "\\frac{1}{2}"
    )  # and on the main thread, with math-verify's alarm


def test_math_verify_errors_are_not_turned_into_not_equal(monkeypatch) -> None:
    import math_verify
    import pytest

    def broken(*args: object, **kwargs: object) -> object:
        raise ValueError("signal only works in main thread of the main interpreter")

    monkeypatch.setattr(math_verify, "parse", broken)
    with pytest.raises(ValueError, match="main thread"):
        MathChecker().equivalent("1/2", "\\frac{1}{2}")

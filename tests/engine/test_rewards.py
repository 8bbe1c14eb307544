"""Reward functions: completion only, gold gets 1, wrong gets 0 (or the parseable-wrong value), format reward, raising checkers."""

from __future__ import annotations

import pytest

from engine.answers import ChoiceChecker, CustomChecker, NumericChecker
from engine.config import TrainingSettings
from engine.errors import RunError
from engine.training.rewards import correctness_reward, format_reward, reward_funcs


def test_correctness_reads_only_the_completion() -> None:
    reward = correctness_reward(NumericChecker())
    # the prompt shows the format placeholder `#### 42`; it must earn nothing
    prompts = ["Give the answer like this:\n#### 42\nQuestion: 40 + 2?\nAnswer:"] * 3
    out = reward(
        ["40 + 2 = 42\n#### 42", "I think it is 41.", "#### 1,000"],
        answer=["42", "42", "1000"],
        prompts=prompts,
    )
    assert out == [1.0, 0.0, 1.0]


def test_wrong_but_parseable_and_stop_strings() -> None:
    reward = correctness_reward(NumericChecker(), wrong_parseable=0.1, stop=("\nQuestion:",))
    completions = ["#### 7", "#### 5\nQuestion: what is 3+4?\nAnswer: #### 7", "no answer"]
    assert reward(completions, answer=["7", "7", "7"]) == [1.0, 0.1, 0.0]


def test_conversational_completions() -> None:
    reward = correctness_reward(ChoiceChecker())
    completions = [
        [{"role": "assistant", "content": "<answer>B</answer>"}],
        [{"role": "assistant", "content": "<answer>C</answer>"}],
    ]
    assert reward(completions, answer=["B", "B"]) == [1.0, 0.0]


def test_format_reward_only_when_configured() -> None:
    checker = NumericChecker()
    assert len(reward_funcs(checker, TrainingSettings())) == 1
    funcs = reward_funcs(checker, TrainingSettings(format_reward=0.2))
    assert [f.__name__ for f in funcs] == ["correctness", "answer_format"]
    assert format_reward(checker, 0.2)(["#### 3", "three"]) == [0.2, 0.0]


def test_a_raising_checker_is_a_clear_run_error() -> None:
    def broken(text: str) -> str:
        raise ZeroDivisionError("boom")

    reward = correctness_reward(CustomChecker(broken))
    with pytest.raises(RunError) as info:
        reward(["anything"], answer=["1"])
    assert "ZeroDivisionError" in info.value.title and "--check" in info.value.hint

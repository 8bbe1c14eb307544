"""Reward functions as plain callables `(completions, **columns) -> list[float | None]`; they read only the completion."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from engine.answers import AnswerChecker
from engine.backends.base import cut_at_stop
from engine.errors import RunError

RewardFunc = Callable[..., list[float | None]]


def _text(completion: Any, stop: Sequence[str] = ()) -> str:
    """A completion as text (plain string, or the assistant message(s) of a conversational one), cut at the first stop string.

    The solver stops plain-completion answers at the next "Question:"; cutting here gives the reward the same answer.
    """
    if isinstance(completion, list):
        text = "".join(m.get("content", "") for m in completion if isinstance(m, dict))
    else:
        text = completion if isinstance(completion, str) else str(completion)
    return cut_at_stop(text, stop)


def correctness_reward(
    checker: AnswerChecker, wrong_parseable: float = 0.0, stop: Sequence[str] = ()
) -> RewardFunc:
    """1 when the completion's extracted answer equals the gold `answer` column, `wrong_parseable` for another answer, else 0."""

    def correctness(completions: list[Any], answer: list[str], **_: Any) -> list[float | None]:
        rewards: list[float | None] = []
        for completion, gold in zip(completions, answer, strict=True):
            predicted = _call(checker.extract, _text(completion, stop))
            if predicted is None:
                rewards.append(0.0)
            elif _call(checker.equivalent, predicted, str(gold)):
                rewards.append(1.0)
            else:
                rewards.append(wrong_parseable)
        return rewards

    return correctness


def format_reward(checker: AnswerChecker, value: float, stop: Sequence[str] = ()) -> RewardFunc:
    """`value` when the completion carries an answer in the output format at all, else 0."""

    def answer_format(completions: list[Any], **_: Any) -> list[float | None]:
        return [
            value if _call(checker.extract, _text(c, stop)) is not None else 0.0
            for c in completions
        ]

    return answer_format


def reward_funcs(
    checker: AnswerChecker, training: Any, stop: Sequence[str] = ()
) -> list[RewardFunc]:
    """The reward functions of a run: correctness, plus the format reward when `training.format_reward` > 0."""
    funcs = [correctness_reward(checker, training.wrong_parseable_reward, stop)]
    if training.format_reward > 0:
        funcs.append(format_reward(checker, training.format_reward, stop))
    return funcs


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - user checker code may raise anything; it becomes one clear run error
        name = getattr(fn, "__qualname__", repr(fn))
        raise RunError(
            f"The answer checker raised {type(exc).__name__} in {name}: {exc}",
            "fix the checker (answer_type/checker in task.toml) so it returns None for text without an answer; "
            "`sdrl train --check` runs it on the gold answers before any compute is spent",
        ) from exc

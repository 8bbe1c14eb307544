"""Answer extraction and checking per answer type, shared by labelling votes, probing, scoring, rewards and eval.

Only completions are ever passed in here (never prompts), and nothing is executed: answers are parsed.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from engine.errors import ConfigError

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.IGNORECASE | re.DOTALL)
_MAX_CHARS = 200_000  # a huge reply is cut before parsing, so a pathological one cannot stall us


class AnswerChecker(Protocol):
    @property
    def answer_type(self) -> str: ...

    def extract(self, text: str) -> str | None:
        """The final answer in a completion, normalised, or None when there is none."""

    def equivalent(self, a: str, b: str) -> bool:
        """Whether two extracted answers are the same answer."""

    def render(self, answer: str) -> str:
        """A minimal completion that carries `answer` in the output format (for preflight checks)."""


def _number(text: str) -> str | None:
    cleaned = text.replace(",", "").replace("$", "").strip()
    match = _NUMBER.search(cleaned)
    if not match:
        return None
    value = float(match.group())
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


@dataclass(frozen=True)
class NumericChecker:
    """GSM8K style: the number after the last `####`; commas and `$` dropped; equal within 1e-3."""

    answer_type: str = "numeric"
    tolerance: float = 1e-3

    def extract(self, text: str) -> str | None:
        text = text[:_MAX_CHARS]
        idx = text.rfind("####")
        if idx < 0:
            return None
        tail = text[idx + 4 :].strip().splitlines()
        return _number(tail[0]) if tail else None

    def equivalent(self, a: str, b: str) -> bool:
        x, y = _number(a), _number(b)
        if x is None or y is None:
            return False
        return abs(float(x) - float(y)) <= self.tolerance

    def render(self, answer: str) -> str:
        return f"#### {answer}"


def _last_boxed(text: str) -> str | None:
    start = text.rfind("\\boxed")
    while start >= 0:
        i = start + len("\\boxed")
        while i < len(text) and text[i] == " ":
            i += 1
        if i < len(text) and text[i] == "{":
            depth = 0
            for j in range(i, len(text)):
                if text[j] == "{":
                    depth += 1
                elif text[j] == "}":
                    depth -= 1
                    if depth == 0:
                        content = text[i + 1 : j].strip()
                        return content or None
            return None
        start = text.rfind("\\boxed", 0, start)
    return None


MATH_TIMEOUT_S = 5
"""math-verify's own limit per parse and per comparison, on the main thread (a signal alarm)."""
MATH_OFF_MAIN_CHARS = 300
"""Off the main thread there is no alarm: answers longer than this are compared as text only."""
_POWER_TOWER = re.compile(r"\^\s*(?:\{[^{}]*|\w+\s*)\^")
"""`a^{b^c}`: the one short form that makes sympy work for minutes (an exponent holding a power)."""


def math_equivalent(a: str, b: str) -> bool:
    """Whether two LaTeX answers are mathematically equal (math-verify), safe in any thread.

    math-verify bounds its work with `signal.alarm`, which only the main thread may use: elsewhere (the
    studio's workers) its timeouts are switched off and the work is bounded here instead, by refusing
    inputs that could run long (see MATH_OFF_MAIN_CHARS, _POWER_TOWER) -- those compare as text. Garbage
    input is "not equal" inside math-verify (raise_on_error=False); any error it still raises propagates.
    """
    import threading

    from math_verify import parse, verify  # lazy: sympy is slow to import

    on_main = threading.current_thread() is threading.main_thread()
    if not on_main and any(len(x) > MATH_OFF_MAIN_CHARS or _POWER_TOWER.search(x) for x in (a, b)):
        return a.strip() == b.strip()
    limit = MATH_TIMEOUT_S if on_main else None
    if limit is None:
        _silence_no_timeout_warning()
    gold = parse(f"${b}$", parsing_timeout=limit)  # type: ignore[arg-type]
    pred = parse(f"${a}$", parsing_timeout=limit)  # type: ignore[arg-type]
    return bool(gold) and bool(pred) and bool(verify(gold, pred, timeout_seconds=limit))


def _silence_no_timeout_warning() -> None:
    """math-verify logs a warning the first time its timeout is off; ours is bounded (see math_equivalent)."""
    import math_verify.grader
    import math_verify.parser

    math_verify.parser.TIMEOUT_WARNING_SHOWN = True  # type: ignore[attr-defined]
    math_verify.grader.TIMEOUT_WARNING_SHOWN = True  # type: ignore[attr-defined]


@dataclass(frozen=True)
class MathChecker:
    """MATH style: the last `\\boxed{...}`, compared by mathematical equivalence (math-verify)."""

    answer_type: str = "math"

    def extract(self, text: str) -> str | None:
        return _last_boxed(text[:_MAX_CHARS])

    def equivalent(self, a: str, b: str) -> bool:
        if a.strip() == b.strip():
            return True
        return math_equivalent(a, b)

    def render(self, answer: str) -> str:
        return f"\\boxed{{{answer}}}"


@dataclass(frozen=True)
class ChoiceChecker:
    """Multiple choice: the content of the last `<answer>...</answer>`, an option letter, exact match."""

    answer_type: str = "multiple_choice"
    choices: tuple[str, ...] = ("A", "B", "C", "D")

    def extract(self, text: str) -> str | None:
        found = _ANSWER_TAG.findall(text[:_MAX_CHARS])
        if not found:
            return None
        content = found[-1].strip().strip("().: ").upper()
        upper = {c.upper() for c in self.choices}
        if content in upper:
            return content
        head = re.match(r"([A-Z])\b", content)
        return head.group(1) if head and head.group(1) in upper else None

    def equivalent(self, a: str, b: str) -> bool:
        return a.strip().upper() == b.strip().upper()

    def render(self, answer: str) -> str:
        return f"<answer>{answer}</answer>"


def _fold(text: str) -> str:
    return " ".join(text.casefold().split()).strip(" .")


@dataclass(frozen=True)
class ExactChecker:
    """Short labels / exact text: the last `<answer>...</answer>`, compared case-folded with spaces collapsed."""

    answer_type: str = "exact"

    def extract(self, text: str) -> str | None:
        found = _ANSWER_TAG.findall(text[:_MAX_CHARS])
        if not found:
            return None
        content = " ".join(found[-1].split())
        return content or None

    def equivalent(self, a: str, b: str) -> bool:
        return _fold(a) == _fold(b)

    def render(self, answer: str) -> str:
        return f"<answer>{answer}</answer>"


@dataclass(frozen=True)
class CustomChecker:
    """User code by dotted path `pkg.mod:extract`; the module may define `equivalent(a, b)` and `render(answer)`."""

    extract_fn: Callable[[str], str | None]
    equivalent_fn: Callable[[str, str], bool] | None = None
    render_fn: Callable[[str], str] | None = None
    answer_type: str = "custom"

    def extract(self, text: str) -> str | None:
        value = self.extract_fn(text[:_MAX_CHARS])
        return None if value is None else str(value)

    def equivalent(self, a: str, b: str) -> bool:
        if self.equivalent_fn is not None:
            return bool(self.equivalent_fn(a, b))
        return a.strip() == b.strip()

    def render(self, answer: str) -> str:
        return self.render_fn(answer) if self.render_fn else answer


def load_custom(path: str) -> CustomChecker:
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise ConfigError(
            f"checker {path!r} is not a dotted path",
            'write it as checker = "package.module:function"',
        )
    try:
        module = importlib.import_module(module_name)
        extract = getattr(module, attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"checker {path!r} cannot be imported: {exc}",
            "make the module importable (installed, or on PYTHONPATH) and check the function name",
        ) from exc
    return CustomChecker(
        extract, getattr(module, "equivalent", None), getattr(module, "render", None)
    )


def checker_for(
    answer_type: str, *, checker: str | None = None, choices: Sequence[str] = ("A", "B", "C", "D")
) -> AnswerChecker:
    if answer_type == "numeric":
        return NumericChecker()
    if answer_type == "math":
        return MathChecker()
    if answer_type == "multiple_choice":
        return ChoiceChecker(choices=tuple(choices))
    if answer_type == "exact":
        return ExactChecker()
    if answer_type == "custom":
        return load_custom(checker or "")
    raise ConfigError(
        f"unknown answer type {answer_type!r}",
        "use numeric, math, multiple_choice, exact or custom",
    )


def task_checker(task: object) -> AnswerChecker:
    """The checker of a TaskDefinition."""
    return checker_for(task.answer_type, checker=task.checker, choices=task.choices)  # type: ignore[attr-defined]


def is_correct(checker: AnswerChecker, completion: str, gold: str) -> bool:
    predicted = checker.extract(completion)
    return predicted is not None and checker.equivalent(predicted, gold)


@dataclass(frozen=True)
class Majority:
    answer: str | None
    agreement: float
    """Share of all votes (unparseable ones included) that went to the winning answer."""
    counts: tuple[tuple[str, int], ...]
    unparseable: int


def majority_vote(checker: AnswerChecker, answers: Sequence[str | None]) -> Majority:
    """Plurality over extracted answers, grouping equivalent ones; ties go to the answer seen first."""
    groups: list[list[str]] = []
    unparseable = 0
    for answer in answers:
        if answer is None:
            unparseable += 1
            continue
        for group in groups:
            if checker.equivalent(answer, group[0]):
                group.append(answer)
                break
        else:
            groups.append([answer])
    if not groups:
        return Majority(None, 0.0, (), unparseable)
    best = max(groups, key=len)  # max keeps the first of equal lengths
    counts = tuple((g[0], len(g)) for g in groups)
    return Majority(best[0], len(best) / len(answers), counts, unparseable)

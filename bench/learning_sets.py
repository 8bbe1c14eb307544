"""Held-out data for the learning study: an exact-answer arithmetic test set, and the truth of arithmetic questions.

The test set is computed (never voted), drawn with its own fixed seed before any stage runs, and checked against
every generated question afterwards. `true_answer` reads a question's numbers with a regular expression (never by
evaluating text) so label accuracy can be measured wherever a generated question is plain arithmetic.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence

from engine.evaluate import Item
from engine.pool import normalize_question

TEST_SEED = 20_261_129
"""Fixed, and different from every study seed: the test set does not depend on the run being measured."""

_SUM = re.compile(r"what is\s+(\d{1,4})\s*([+-])\s*(\d{1,4})\s*\??\s*$", re.IGNORECASE)


def exact_test_set(n: int = 200, high: int = 20, seed: int = TEST_SEED) -> list[Item]:
    """`n` distinct questions "What is A + B?" / "What is A - B?" (1 <= B <= A <= high for differences)."""
    pool = [f"What is {a} + {b}?" for a in range(1, high + 1) for b in range(1, high + 1)]
    pool += [f"What is {a} - {b}?" for a in range(1, high + 1) for b in range(1, a + 1)]
    if n > len(pool):
        raise ValueError(f"only {len(pool)} distinct questions with numbers up to {high}")
    chosen = random.Random(seed).sample(pool, n)
    return [Item(q, str(true_answer(q))) for q in chosen]


def true_answer(question: str) -> int | None:
    """The exact answer of a plain "What is A + B?" / "What is A - B?" question; None for anything else."""
    match = _SUM.search(question.strip())
    if match is None:
        return None
    a, op, b = int(match.group(1)), match.group(2), int(match.group(3))
    return a + b if op == "+" else a - b


def overlap(test: Sequence[Item], generated: Iterable[str]) -> list[str]:
    """Test questions that also occur (normalised: case and spacing) among the generated questions."""
    seen = {normalize_question(q) for q in generated}
    return [it.question for it in test if normalize_question(it.question) in seen]


_WORDED = (
    (
        "A shop sells {a} apples in the morning and {b} in the afternoon. How many apples does it sell?",
        "+",
    ),
    ("A class has {a} pupils and {b} more join. How many pupils are there now?", "+"),
    (
        "Tom has {a} stickers and gives {b} of them to his sister. How many stickers does Tom have left?",
        "-",
    ),
    ("A bus carries {a} people and {b} get off. How many people are still on the bus?", "-"),
)


def worded_label_set(n: int = 12, high: int = 20, seed: int = TEST_SEED + 1) -> list[Item]:
    """One-step word problems with computed answers, to measure how often the instructor's vote labels them right."""
    rng = random.Random(seed)
    items = []
    for i in range(n):
        template, op = _WORDED[i % len(_WORDED)]
        a, b = rng.randint(2, high), rng.randint(1, high)
        if op == "-":
            a, b = max(a, b), min(a, b)
        items.append(Item(template.format(a=a, b=b), str(a + b if op == "+" else a - b)))
    return items

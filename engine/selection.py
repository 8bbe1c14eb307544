"""Pass rates and the selection rules (stage 9), as pure functions over plain values; user decisions win."""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

SelectionRule = Literal["paper", "band", "easy", "hard", "all"]
"""The selection rules (RANKERS below implements each); config, CLI and studio take their names from here."""
RULES: tuple[str, ...] = get_args(SelectionRule)
FORCED = ("accept", "pin")


def pass_rate(passed: int, k: int) -> float:
    """Share of the k sampled answers that were correct."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if not 0 <= passed <= k:
        raise ValueError(f"passed must be between 0 and k={k}, got {passed}")
    return passed / k


@dataclass(frozen=True)
class Candidate:
    sample_id: int
    pass_rate: float | None
    """None when the sample has not been scored."""
    decision: str | None = None
    """The user's decision in force: accept, pin, reject or None."""


@dataclass(frozen=True)
class Selected:
    train: tuple[Candidate, ...]
    val: tuple[Candidate, ...]


def _by_rate(c: Candidate) -> tuple[float, int]:
    return (c.pass_rate if c.pass_rate is not None else 0.0, c.sample_id)


def _by_rate_desc(c: Candidate) -> tuple[float, int]:
    return (-(c.pass_rate if c.pass_rate is not None else 0.0), c.sample_id)


def rank_paper(
    pool: Sequence[Candidate], band: tuple[float, float] = (0.0, 1.0)
) -> list[Candidate]:
    """The paper's rule: only 0 < p < 1 (p = 0 or 1 gives zero GRPO advantage), hardest first."""
    return sorted(
        (c for c in pool if c.pass_rate is not None and 0.0 < c.pass_rate < 1.0), key=_by_rate
    )


def rank_band(pool: Sequence[Candidate], band: tuple[float, float] = (0.0, 1.0)) -> list[Candidate]:
    """lo <= p <= hi, hardest first."""
    lo, hi = check_band(band)
    return sorted(
        (c for c in pool if c.pass_rate is not None and lo <= c.pass_rate <= hi), key=_by_rate
    )


def rank_easy(pool: Sequence[Candidate], band: tuple[float, float] = (0.0, 1.0)) -> list[Candidate]:
    """Easiest first (highest pass rate), solved-by-all included (the paper's ablation)."""
    return sorted((c for c in pool if c.pass_rate is not None), key=_by_rate_desc)


def rank_hard(pool: Sequence[Candidate], band: tuple[float, float] = (0.0, 1.0)) -> list[Candidate]:
    """Hardest first (lowest pass rate), never-solved included (the paper's ablation)."""
    return sorted((c for c in pool if c.pass_rate is not None), key=_by_rate)


def rank_all(pool: Sequence[Candidate], band: tuple[float, float] = (0.0, 1.0)) -> list[Candidate]:
    """Every scored sample, in id order; M does not cut this rule."""
    return sorted((c for c in pool if c.pass_rate is not None), key=lambda c: c.sample_id)


RANKERS: dict[str, Callable[..., list[Candidate]]] = {
    "paper": rank_paper,
    "band": rank_band,
    "easy": rank_easy,
    "hard": rank_hard,
    "all": rank_all,
}


def check_band(band: Sequence[float]) -> tuple[float, float]:
    if len(band) != 2:
        raise ValueError(f"band needs two bounds LO HI, got {list(band)}")
    lo, hi = float(band[0]), float(band[1])
    if not (0.0 <= lo <= 1.0 and 0.0 <= hi <= 1.0):
        raise ValueError(f"band bounds must lie in [0, 1], got {lo} {hi}")
    if lo > hi:
        raise ValueError(f"band lower bound {lo} is above upper bound {hi}")
    return lo, hi


def select(
    pool: Sequence[Candidate],
    *,
    rule: str = "paper",
    m: int = 500,
    band: Sequence[float] = (0.0, 1.0),
    validation_share: float = 0.0,
    seed: int = 0,
) -> Selected:
    """Apply `rule`, keep M, reserve a seeded validation split; accepted/pinned always train, rejected never appear.

    The validation split is drawn (seeded) from the rule's eligible samples before the top M are taken,
    so it follows the training distribution and never overlaps it; forced samples are never held out.
    """
    if rule not in RANKERS:
        raise ValueError(f"unknown rule {rule!r}; use one of {', '.join(RULES)}")
    if m < 1:
        raise ValueError(f"M must be at least 1, got {m}")
    if not 0.0 <= validation_share < 1.0:
        raise ValueError(f"validation_share must be in [0, 1), got {validation_share}")
    band = check_band(band)
    forced = sorted((c for c in pool if c.decision in FORCED), key=lambda c: c.sample_id)
    free = [c for c in pool if c.decision not in FORCED and c.decision != "reject"]
    ranked = RANKERS[rule](free, band)
    take = len(ranked) if rule == "all" else min(m, len(ranked))
    n_val = round(validation_share * take)
    if n_val >= len(ranked) and ranked:
        n_val = len(ranked) - 1  # always leave something to train on
    held = (
        set(random.Random(seed).sample([c.sample_id for c in ranked], n_val))
        if n_val > 0
        else set()
    )
    val = tuple(c for c in ranked if c.sample_id in held)
    rest = [c for c in ranked if c.sample_id not in held]
    budget = len(rest) if rule == "all" else max(0, m - len(forced))
    return Selected(train=tuple(forced) + tuple(rest[:budget]), val=val)


def histogram(rates: Sequence[float], bins: int = 10) -> list[int]:
    """Counts of pass rates in `bins` equal bins over [0, 1]; p = 1 falls in the last bin."""
    counts = [0] * bins
    for p in rates:
        counts[min(int(p * bins), bins - 1)] += 1
    return counts


def spread(values: Sequence[float]) -> dict[str, Any]:
    """min, max, mean, median and population std of some values (None where there are none)."""
    if not values:
        return {"n": 0, "min": None, "max": None, "mean": None, "median": None, "std": None}
    return {
        "n": len(values),
        "min": min(values),
        "max": max(values),
        "mean": statistics.fmean(values),
        "median": statistics.median(values),
        "std": statistics.pstdev(values),
    }

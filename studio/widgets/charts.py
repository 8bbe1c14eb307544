"""Training curves as real plots (textual-plotext): axes with values, a fixed scale per metric, a cursor step, two runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual_plotext import PlotextPlot

Points = Sequence[tuple[int, float]]
"""(step, value) pairs of one metric of one run, in step order."""

RUN_COLOURS = ("cyan", "orange")
"""The attached run, then the run it is compared with."""


@dataclass(frozen=True)
class Curve:
    label: str
    points: Points


def metric_scale(
    metric: str, values: Sequence[float], *, max_reward: float = 1.0, max_length: int = 0
) -> tuple[float, float]:
    """The y range of a metric: its natural bounds, always including 0, never each series' own min and max.

    A series scaled to its own extremes makes 176 -> 192 look like empty -> full; a fixed range keeps
    the height of a curve honest and the same for every run.
    """
    if metric == "reward_mean":
        return 0.0, max(max_reward, *values, 0.0) if values else max_reward
    if metric == "zero_std_share":
        return 0.0, 1.0
    if metric == "completion_length":
        top = max(float(max_length), *values) if values else float(max_length or 1)
        return 0.0, top or 1.0
    lo = min(0.0, *values) if values else 0.0
    hi = max(0.0, *values) if values else 0.0
    if hi - lo < 1e-9:
        hi = lo + 0.01  # one flat value still gets an axis
    pad = (hi - lo) * 0.05
    return (lo - pad if lo < 0 else 0.0), hi + pad


def value_at(points: Points, step: int) -> float | None:
    """The value logged at `step` or, between logs, the last one before it."""
    found = None
    for s, v in points:
        if s > step:
            break
        found = v
    return found


class MetricChart(PlotextPlot):
    """One metric over training steps, one line per run, a vertical line at the cursor step."""

    def __init__(self, metric: str, title: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.metric = metric
        self.title = title
        self.curves: list[Curve] = []
        self.cursor: int | None = None
        self.scale: tuple[float, float] = (0.0, 1.0)

    def show(self, curves: Sequence[Curve], cursor: int | None, scale: tuple[float, float]) -> None:
        self.curves, self.cursor, self.scale = list(curves), cursor, scale
        self.replot()

    def headline(self) -> str:
        """Title with the value at the cursor step (or the last one) for each run."""
        parts = []
        for curve in self.curves:
            if not curve.points:
                continue
            step = self.cursor if self.cursor is not None else curve.points[-1][0]
            value = value_at(curve.points, step)
            if value is not None:
                parts.append(f"{value:.4g}")
        at = f" @ step {self.cursor}" if self.cursor is not None else ""
        return f"{self.title}{at}: {' vs '.join(parts) if parts else '-'}"

    def replot(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        self.border_title = self.headline()
        plt.ylim(*self.scale)
        steps = [s for curve in self.curves for s, _ in curve.points]
        if steps:
            plt.xlim(min(steps), max(max(steps), min(steps) + 1))
        for curve, colour in zip(self.curves, RUN_COLOURS, strict=False):
            if curve.points:
                xs = [s for s, _ in curve.points]
                ys = [v for _, v in curve.points]
                # a single point is a marker, not a filled area
                plt.plot(
                    xs,
                    ys,
                    marker="dot" if len(xs) == 1 else "braille",
                    color=colour,
                    label=curve.label if len(self.curves) > 1 else None,
                )
        if self.cursor is not None and steps:
            plt.vline(self.cursor, "gray")
        if steps:
            plt.xticks([float(t) for t in step_ticks(min(steps), max(steps))])
        self.refresh()


def step_ticks(first: int, last: int, most: int = 5) -> list[int]:
    """Whole-number step ticks from `first` to `last`."""
    span = max(1, last - first)
    every = max(1, -(-span // (most - 1)))
    ticks = list(range(first, last + 1, every))
    return ticks if ticks[-1] == last else [*ticks, last]

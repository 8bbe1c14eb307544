"""A text bar chart of pass rates: one row per bin, bars scaled to the widest count, the selection band highlighted."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


class Histogram(Widget):
    COMPONENT_CLASSES = {"histogram--band"}
    counts: reactive[tuple[int, ...]] = reactive((), layout=False)
    band: reactive[tuple[float, float] | None] = reactive(None)

    def __init__(self, title: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.title = title

    def render(self) -> Text:
        text = Text()
        text.append(f"{self.title}\n", "bold")
        counts = self.counts
        if not counts or not sum(counts):
            text.append("no pass rates yet (run score)", "dim")
            return text
        bins = len(counts)
        label_w = 10
        width = max(4, self.size.width - label_w - 8)
        peak = max(counts)
        rows = max(1, self.size.height - 1)
        step = max(1, -(-bins // rows))  # merge bins when the widget is short
        band_style = self.get_component_rich_style("histogram--band")
        for start in range(0, bins, step):
            n = sum(counts[start : start + step])
            lo, hi = start / bins, min(bins, start + step) / bins
            in_band = self.band is not None and self.band[0] <= (lo + hi) / 2 <= self.band[1]
            bar = "█" * round(width * n / (peak * step)) if n else ""
            text.append(f"{lo:.1f}-{hi:.1f} ".rjust(label_w), "dim")
            text.append(bar, band_style if in_band else "")
            text.append(f" {n}\n")
        text.rstrip()
        return text

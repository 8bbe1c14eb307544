"""A pass-rate histogram as a real plot (textual-plotext): counts per bin, the selection band drawn on it."""

from __future__ import annotations

from textual.reactive import reactive
from textual_plotext import PlotextPlot

IN_BAND, OUT_OF_BAND, EDGE = "green", "gray", "orange"


class Histogram(PlotextPlot):
    """Bars of samples per pass-rate bin; bars inside the band are coloured and its edges drawn.

    `peak` fixes the y axis: two histograms side by side share it, so equal heights mean equal counts.
    """

    counts: reactive[tuple[int, ...]] = reactive(())
    band: reactive[tuple[float, float] | None] = reactive(None)
    peak: reactive[int] = reactive(0)

    def __init__(self, title: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.title = title

    def watch_counts(self) -> None:
        self.replot()

    def watch_band(self) -> None:
        self.replot()

    def watch_peak(self) -> None:
        self.replot()

    def on_mount(self) -> None:
        super().on_mount()
        self.replot()

    def in_band(self, centre: float) -> bool:
        return self.band is not None and self.band[0] <= centre <= self.band[1]

    def replot(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        counts = self.counts
        total = sum(counts)
        self.border_title = f"{self.title} · {total}" if total else self.title
        self.border_subtitle = "" if total else "no pass rates yet (run score)"
        top = max(self.peak, max(counts, default=0), 1)
        plt.xlim(0.0, 1.0)
        plt.ylim(0, top)
        if total:
            bins = len(counts)
            width = 1.0 / bins
            centres = [(i + 0.5) * width for i in range(bins)]
            for colour, keep in ((IN_BAND, True), (OUT_OF_BAND, False)):
                xs = [c for c in centres if self.in_band(c) == keep]
                ys = [n for c, n in zip(centres, counts, strict=True) if self.in_band(c) == keep]
                if xs:
                    plt.bar(xs, ys, width=width * 0.8, color=colour)
        if self.band is not None:
            for edge in self.band:
                plt.vline(edge, EDGE)
        # ticks last: plotting resets them; counts are whole numbers
        plt.xticks([0, 0.25, 0.5, 0.75, 1.0], ["0", ".25", ".5", ".75", "1"])
        plt.yticks([float(t) for t in integer_ticks(top)])
        self.refresh()


def integer_ticks(top: int, most: int = 5) -> list[int]:
    """At most `most` whole-number ticks from 0 to `top` inclusive."""
    step = max(1, -(-top // (most - 1)))
    return list(range(0, top + 1, step)) + ([top] if top % step else [])

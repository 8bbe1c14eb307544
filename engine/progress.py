"""Throughput and ETA per sub-stage, from the events' own timestamps (the same numbers in the CLI and the studio)."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.events import Event, Progress, StageStarted


@dataclass
class RateMeter:
    """Items per second since the first progress of each stage; never negative, restarted per stage."""

    _first: dict[str, tuple[float, int]] = field(default_factory=dict)
    _last: dict[str, tuple[float, int, int | None]] = field(default_factory=dict)

    def add(self, event: Event) -> None:
        if isinstance(event, StageStarted):
            self._first.pop(event.stage, None)
            self._last.pop(event.stage, None)
        elif isinstance(event, Progress):
            first = self._first.setdefault(event.stage, (event.ts, event.done))
            if event.done < first[1]:  # a counter that went back: measure from here
                self._first[event.stage] = (event.ts, event.done)
            self._last[event.stage] = (event.ts, event.done, event.total)

    def rate(self, stage: str) -> float:
        if stage not in self._first or stage not in self._last:
            return 0.0
        (t0, d0), (t1, d1, _) = self._first[stage], self._last[stage]
        return max(0.0, (d1 - d0) / (t1 - t0)) if t1 > t0 else 0.0

    def eta_seconds(self, stage: str) -> float | None:
        rate = self.rate(stage)
        last = self._last.get(stage)
        if last is None or rate <= 0 or not last[2] or last[1] >= last[2]:
            return None
        return (last[2] - last[1]) / rate


def eta_text(seconds: float | None) -> str:
    if seconds is None:
        return "ETA -"
    whole = int(seconds)
    return f"ETA {whole // 60}:{whole % 60:02d}"

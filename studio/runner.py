"""Runs an engine stage's event stream in a thread worker and hands events to the UI on a timer.

The worker only appends to a buffer; a timer on the UI thread drains it a few times a second, so a
fast stage (or a slow SSH link) never piles up messages: the screen sees the newest state in batches.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from textual.widget import Widget

Events = Iterator[Any]


class StageRunner:
    def __init__(
        self, owner: Widget, on_events: Callable[[list[Any]], None], interval: float = 0.2
    ) -> None:
        self.owner = owner
        self.on_events = on_events
        self.interval = interval
        self._buffer: list[Any] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._worker: Any = None
        self.name = ""

    def attach(self) -> None:
        """Start draining; call from the owner's on_mount."""
        self.owner.set_interval(self.interval, self.drain)

    @property
    def running(self) -> bool:
        return self._worker is not None and self._worker.is_running

    def start(self, name: str, make_events: Callable[[Callable[[], bool]], Events]) -> bool:
        if self.running:
            self.owner.notify(f"{self.name} is still running; stop it first", severity="warning")
            return False
        self.name = name
        self._stop.clear()

        def work() -> None:
            for event in make_events(self._stop.is_set):
                with self._lock:
                    self._buffer.append(event)

        self._worker = self.owner.run_worker(
            work, name=name, group="stage", thread=True, exit_on_error=False
        )
        return True

    def stop(self) -> None:
        self._stop.set()

    def drain(self) -> None:
        with self._lock:
            events, self._buffer = self._buffer, []
        if events:
            self.on_events(events)

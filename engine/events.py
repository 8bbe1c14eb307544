"""Typed, frozen events that stages yield, and the append-only JSONL event log that lets another process follow a run."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Event:
    stage: str
    ts: float = field(default_factory=time.time, kw_only=True)


@dataclass(frozen=True)
class StageStarted(Event):
    total: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Progress(Event):
    """`done` of `total` items finished; `can_replace`: a newer Progress supersedes this one."""

    done: int = 0
    total: int | None = None
    unit: str = "items"


@dataclass(frozen=True)
class ItemDone(Event):
    item_id: int | str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ItemFailed(Event):
    item_id: int | str = ""
    reason: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Metric(Event):
    name: str = ""
    value: float = 0.0
    step: int | None = None


@dataclass(frozen=True)
class Token(Event):
    """A piece of streamed model output (previews)."""

    item_id: int | str = ""
    text: str = ""


@dataclass(frozen=True)
class StageWarning(Event):
    """Something the user should know that does not stop the stage, with how to fix it."""

    message: str = ""
    hint: str = ""


@dataclass(frozen=True)
class ModelLoading(Event):
    """The stage is loading `model` (slow the first time); shown as "loading MODEL…" until progress arrives."""

    model: str = ""


@dataclass(frozen=True)
class StageFinished(Event):
    counts: dict[str, Any] = field(default_factory=dict)
    stopped: bool = False


EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        StageStarted,
        Progress,
        ItemDone,
        ItemFailed,
        Metric,
        Token,
        StageWarning,
        ModelLoading,
        StageFinished,
    )
}
EVENT_TYPES["Warning"] = StageWarning  # the name event logs written before the rename carry


def to_dict(event: Event) -> dict[str, Any]:
    return {"type": type(event).__name__, **dataclasses.asdict(event)}


def from_dict(data: dict[str, Any]) -> Event:
    data = dict(data)
    cls = EVENT_TYPES[data.pop("type")]
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


class EventLog:
    """Append-only JSONL file; one event per line, flushed at once so followers see it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def append(self, event: Event) -> None:
        line = json.dumps(to_dict(event), default=str)
        # O_APPEND writes of one short line are atomic enough for several writers.
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()

    def read(self, offset: int = 0) -> tuple[list[Event], int]:
        """Events from byte `offset` on, and the offset after the last complete line."""
        if not self.path.exists():
            return [], offset
        events: list[Event] = []
        with open(self.path, "rb") as fh:
            fh.seek(offset)
            for raw in fh:
                if not raw.endswith(b"\n"):
                    break  # a line still being written
                offset += len(raw)
                try:
                    events.append(from_dict(json.loads(raw)))
                except (ValueError, KeyError, TypeError):
                    continue  # a damaged line is skipped, not fatal
        return events, offset

    def follow(
        self,
        live: Callable[[], bool],
        *,
        from_start: bool = True,
        poll: float = 0.25,
        should_stop: Callable[[], bool] | None = None,
    ) -> Iterator[Event]:
        """Yield events as they are appended (from the start, or only new ones) while the writer is
        `live()`; once it is not, the events it left, then the end. `should_stop()` ends at once."""
        offset = 0 if from_start or not self.path.exists() else self.path.stat().st_size
        while True:
            events, offset = self.read(offset)
            yield from events
            if should_stop is not None and should_stop():
                return
            if not events:
                if not live():
                    yield from self.read(offset)[0]
                    return
                time.sleep(poll)

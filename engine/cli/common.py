"""Helpers shared by CLI commands: opening the workspace named by -w, JSON output, progress rendering."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable, Iterable
from typing import Any

import click

from engine.errors import Interrupted
from engine.events import (
    Event,
    ItemFailed,
    ModelLoading,
    Progress,
    StageFinished,
    StageStarted,
    StageWarning,
)
from engine.text import visible
from engine.workspace import Workspace, open_workspace


def workspace_from(ctx: click.Context, *, writable: bool = True) -> Workspace:
    root = (ctx.find_root().obj or {}).get("workspace")
    return open_workspace(root, writable=writable)


def echo_json(data: Any) -> None:
    """JSON on stdout; control characters JSON may leave raw (DEL, C1, bidi) are escaped too."""
    click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False).translate(_JSON_ESCAPES))


# json.dumps escapes C0 controls itself; these it leaves raw, and a terminal would act on them.
_JSON_ESCAPES = {
    c: f"\\u{c:04x}" for c in [*range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
}


class StopFlag:
    """Set by SIGINT/SIGTERM so a stage stops between items and its progress is kept."""

    signalled = threading.Event()
    """Set once any installed flag got a signal: the command then exits 130 (see render_events)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def __call__(self) -> bool:
        return self._event.is_set()

    def set(self) -> None:
        self._event.set()

    def install(self) -> StopFlag:
        def handler(signum: int, frame: Any) -> None:
            if self._event.is_set():
                raise KeyboardInterrupt
            click.echo("\nstopping; finished items are kept (press again to abort)...", err=True)
            self._event.set()
            StopFlag.signalled.set()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, handler)
            signal.signal(signal.SIGTERM, handler)
        return self


def render_events(
    events: Iterable[Event], *, quiet: bool = False, on_event: Callable[[Event], None] | None = None
) -> StageFinished | None:
    """Drive a stage's event stream with a rich progress bar per stage (throughput and ETA) on stderr."""
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.progress import Progress as Bar

    from engine.progress import RateMeter, eta_text

    console = Console(stderr=True)

    def shown(value: object) -> str:  # data is shown, never interpreted as markup or controls
        return escape(visible(value))

    finished: StageFinished | None = None
    tasks: dict[str, Any] = {}
    with Bar(
        TextColumn("[bold]{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[eta]}"),
        console=console,
        disable=quiet or not console.is_terminal,
        transient=False,
    ) as bar:
        meter = RateMeter()
        for event in events:
            if on_event is not None:
                on_event(event)
            meter.add(event)
            if isinstance(event, ModelLoading):
                if not quiet:
                    console.print(f"[dim]{event.stage}: loading {event.model}…[/]")
            elif isinstance(event, StageStarted):
                tasks[event.stage] = bar.add_task(event.stage, total=event.total, rate="", eta="")
            elif isinstance(event, Progress) and event.stage in tasks:
                per_s = meter.rate(event.stage)
                rate = f"{per_s:.2f} {event.unit}/s" if per_s > 0 else ""
                bar.update(
                    tasks[event.stage],
                    completed=event.done,
                    total=event.total,
                    rate=rate,
                    eta=eta_text(meter.eta_seconds(event.stage)),
                )
            elif isinstance(event, StageWarning):
                console.print(
                    f"[yellow]warning:[/] {shown(event.message)}"
                    + (f"\n  fix: {shown(event.hint)}" if event.hint else "")
                )
            elif isinstance(event, ItemFailed) and not quiet:
                console.print(
                    f"[dim]{event.stage}: item {shown(event.item_id)} failed: {shown(event.reason)}[/]"
                )
            elif isinstance(event, StageFinished):
                finished = event
                if event.stage in tasks:
                    bar.update(
                        tasks[event.stage], completed=bar.tasks[tasks[event.stage]].total or 0
                    )
                if not quiet:
                    counts = ", ".join(f"{k}={v}" for k, v in event.counts.items())
                    state = "stopped" if event.stopped else "done"
                    console.print(f"{event.stage}: {state}" + (f" ({counts})" if counts else ""))
    if finished is not None and finished.stopped and StopFlag.signalled.is_set():
        raise Interrupted(finished.stage)  # exit 130: a script can tell a stop from a finished run
    return finished

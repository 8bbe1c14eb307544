"""Stages for testing the job machinery (plugged in through SDRL_STAGES): a slow counter that stops between items."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

from engine.events import Event, Progress, StageFinished, StageStarted
from engine.stages import StageContext


def iter_count(
    ctx: StageContext,
    n: int = 5,
    delay: float = 0.2,
    die_by: str | None = None,
    **_ignored: object,
) -> Iterator[Event]:
    """Counts to n, one item per `delay` seconds; `die_by` (e.g. "SIGILL") kills itself after the first item."""
    yield StageStarted("count", total=n)
    done = 0
    for done in range(1, n + 1):
        if ctx.should_stop():
            yield StageFinished("count", counts={"done": done - 1}, stopped=True)
            return
        time.sleep(delay)
        yield Progress("count", done=done, total=n)
        if die_by:
            os.kill(os.getpid(), getattr(signal, die_by))
    yield StageFinished("count", counts={"done": done})


STAGES_ENV = {"SDRL_STAGES": "generate=tests.job_stages:iter_count"}


def iter_slow_count(ctx: StageContext, **_ignored: object) -> Iterator[Event]:
    """A counter that runs long enough to be killed, stopped or followed from a new studio."""
    yield from iter_count(ctx, n=3000, delay=0.1)


def iter_bug(ctx: StageContext, **_ignored: object) -> Iterator[Event]:
    """A stage with a bug: the job fails with the exception as its cause and the traceback in job.log."""
    yield StageStarted("count", total=1)
    raise RuntimeError("a bug in the stage")

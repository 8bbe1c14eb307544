"""Fault injection for tests: `SDRL_FAULT_INJECT=POINT:SIGNAL` makes the process that reaches POINT die by SIGNAL.

A crash of native model code (SIGILL from an unsupported instruction, SIGKILL from the out-of-memory
killer) cannot be produced on demand on a machine where the code works, so tests name a point
(e.g. `doctor-child`) and the process kills itself there. Several points: `a:SIGILL,b:SIGKILL`.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal

from engine.errors import ConfigError

ENV = "SDRL_FAULT_INJECT"


def injected_signal(point: str) -> signal.Signals | None:
    """The signal that SDRL_FAULT_INJECT asks `point` to die by, or None."""
    for item in os.environ.get(ENV, "").split(","):
        name, _, sig = item.strip().partition(":")
        if name != point:
            continue
        sig_name = sig.strip().upper()
        sig_name = sig_name if sig_name.startswith("SIG") else f"SIG{sig_name}"
        try:
            return signal.Signals[sig_name]
        except KeyError:
            raise ConfigError(
                f"{ENV}={os.environ[ENV]!r} names no signal for {point!r}",
                f"write {ENV}={point}:SIGILL (or another signal name such as SIGKILL, SIGSEGV)",
            ) from None
    return None


def inject(point: str) -> None:
    """Die here by the signal SDRL_FAULT_INJECT names for `point`; return when it names none."""
    signum = injected_signal(point)
    if signum is None:
        return
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a deliberate crash leaves no core file
    # Python handles SIGINT itself; SIGKILL and SIGSTOP take no handler
    with contextlib.suppress(OSError, ValueError):
        signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)

"""Naming how a child process died: a signal or an out-of-memory kill becomes a title and a fix.

The doctor, the CLI following a job, and the studio all run model code in child processes; when one
dies, they report it through `describe_exit` instead of dying with it.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass

REBUILD_LLAMA = (
    "rebuild llama.cpp for a portable target: `rm -f .venv/.sdrl-setup && ./dev setup` in the "
    "sdrl-studio checkout (the default build is portable), or outside it "
    '`CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" '
    "pip install --no-cache-dir --force-reinstall --no-deps llama-cpp-python`"
)


@dataclass(frozen=True)
class ChildDeath:
    """Why a child process ended abnormally, said for a person."""

    signal_name: str
    title: str
    hint: str


def signal_of(returncode: int | None) -> int | None:
    """The signal that ended a process, from its return code (negative for subprocess, 128+N for a shell)."""
    if returncode is None:
        return None
    if returncode < 0:
        return -returncode
    if 128 < returncode < 160:
        return returncode - 128
    return None


def describe_exit(
    returncode: int | None, what: str, engine: str = "the model code"
) -> ChildDeath | None:
    """A report for a child that died by a signal, or None when it exited on its own.

    `what` names the work ("the score job", "the doctor's check of gemma3-270m"); `engine` names the
    native code that ran in it ("llama.cpp", "transformers").
    """
    sig = signal_of(returncode)
    if sig is None:
        return None
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = f"signal {sig}"
    if sig == signal.SIGILL:
        return ChildDeath(
            name,
            f"{engine} crashed with an illegal instruction (SIGILL) in {what}",
            f"it was built for CPU instructions this machine does not run (often AVX-512 or AMX on a VM); "
            f"{REBUILD_LLAMA if engine == 'llama.cpp' else 'reinstall it for a portable CPU target'}",
        )
    if sig == signal.SIGKILL:
        return ChildDeath(
            name,
            f"{what} was killed (SIGKILL), most often by the out-of-memory killer",
            "free memory or use a smaller model, batch or k; if you killed it yourself, resume it",
        )
    if sig in (signal.SIGSEGV, signal.SIGBUS):
        return ChildDeath(
            name,
            f"{engine} crashed ({name}, a memory fault) in {what}",
            "check that the model file is complete (`sdrl doctor`); a truncated or foreign GGUF can do this",
        )
    if sig == signal.SIGABRT:
        return ChildDeath(
            name,
            f"{engine} aborted (SIGABRT) in {what}",
            "run `sdrl doctor` to check the model and its engine",
        )
    if sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        return ChildDeath(
            name, f"{what} was stopped ({name})", "resume it to continue where it stopped"
        )
    return ChildDeath(
        name, f"{what} died by {name}", "run `sdrl doctor` to check the models and their engines"
    )

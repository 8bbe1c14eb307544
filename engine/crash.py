"""Naming how a child process died: a signal or an out-of-memory kill becomes a title and a fix.

The doctor, the CLI following a job, and the studio all run model code in child processes; when one
dies, they report it through `describe_exit` instead of dying with it.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass

from engine.errors import BackendError

REBUILD_LLAMA = (
    "rebuild llama.cpp for a portable target: `rm -f .venv/.sdrl-setup && ./dev setup` in the "
    "sdrl-studio checkout (the default build is portable), or outside it "
    '`CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" '
    "pip install --no-cache-dir --force-reinstall --no-deps llama-cpp-python`"
)


REINSTALL_TORCH = (
    "reinstall torch for this machine: `pip install --force-reinstall --no-deps torch==2.13.0`; "
    "`sdrl doctor` shows which engine crashes"
)
OUT_OF_MEMORY_MARKS = ("MemoryError", "OutOfMemoryError", "out of memory")
"""What a Python child's last words say when it ran out of (CPU or GPU) memory and exited on its own."""


@dataclass(frozen=True)
class ChildDeath:
    """Why a child process ended abnormally, said for a person."""

    signal_name: str
    """SIGILL, SIGKILL, ...; empty for a child that exited on its own after running out of memory."""
    title: str
    hint: str

    def error(self) -> BackendError:
        """The death as the error a CLI command raises: `error: title`, `fix: hint`, exit 2."""
        return BackendError(self.title, self.hint)


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
    returncode: int | None, what: str, engine: str = "the model code", last_words: str = ""
) -> ChildDeath | None:
    """A report for a child that died by a signal or ran out of memory, or None when it exited otherwise.

    `what` names the work and its model ("the score job (gemma3-270m)", "the doctor's check of
    gemma3-270m"); `engine` names the native code that ran in it ("llama.cpp", "transformers");
    `last_words` is the end of the child's stderr or log, where Python says it ran out of memory.
    """
    sig = signal_of(returncode)
    if sig is None:
        if returncode and any(mark in last_words for mark in OUT_OF_MEMORY_MARKS):
            return ChildDeath(
                "",
                f"{what} ran out of memory",
                "free memory or use a smaller model, batch or k",
            )
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
            f"{REBUILD_LLAMA if engine == 'llama.cpp' else REINSTALL_TORCH}",
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

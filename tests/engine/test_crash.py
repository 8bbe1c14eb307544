"""A child's death is named for a person: the signal, the engine, the work, and the fix."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from engine.crash import REBUILD_LLAMA, describe_exit, signal_of
from engine.errors import BackendError
from engine.faults import ENV


def _child_dying_by(sig: str, via_shell: bool = False) -> int:
    """The return code of a real Python child that dies by `sig` at an injected fault point."""
    code = "from engine.faults import inject; inject('test-child'); print('survived')"
    env = {**os.environ, ENV: f"test-child:{sig}"}
    command = [sys.executable, "-c", code]
    if via_shell:  # a shell reports a child's signal as 128+N
        command = ["bash", "-c", '"$@"; exit $?', "bash", *command]
    child = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert "survived" not in child.stdout
    return child.returncode


def test_signal_of_reads_both_conventions() -> None:
    assert signal_of(-4) == signal.SIGILL
    assert signal_of(128 + 9) == signal.SIGKILL
    assert [signal_of(rc) for rc in (None, 0, 1, 2, 128, 255)] == [None] * 6


def test_sigill_in_llama_cpp_names_the_instruction_and_the_rebuild() -> None:
    death = describe_exit(_child_dying_by("SIGILL"), "the score job (gemma3-270m)", "llama.cpp")
    assert death is not None and death.signal_name == "SIGILL"
    assert death.title == (
        "llama.cpp crashed with an illegal instruction (SIGILL) in the score job (gemma3-270m)"
    )
    assert REBUILD_LLAMA in death.hint and "./dev setup" in death.hint


def test_sigill_reported_by_a_shell_is_the_same_death() -> None:
    returncode = _child_dying_by("SIGILL", via_shell=True)
    assert returncode == 128 + signal.SIGILL
    death = describe_exit(returncode, "the doctor's check of gemma3-270m", "llama.cpp")
    assert death is not None and "illegal instruction" in death.title


def test_sigill_in_transformers_points_at_torch() -> None:
    death = describe_exit(-signal.SIGILL, "the train job (gemma3-270m)", "transformers")
    assert death is not None and "transformers crashed with an illegal instruction" in death.title
    assert "torch" in death.hint and "GGML" not in death.hint


def test_sigkill_is_most_often_the_out_of_memory_killer() -> None:
    death = describe_exit(_child_dying_by("SIGKILL"), "the probe job (gemma3-270m)")
    assert death is not None and death.signal_name == "SIGKILL"
    assert "the probe job (gemma3-270m) was killed" in death.title
    assert "out-of-memory" in death.title and "free memory" in death.hint


@pytest.mark.parametrize(
    ("sig", "words"),
    [
        ("SIGSEGV", "memory fault"),
        ("SIGBUS", "memory fault"),
        ("SIGABRT", "aborted"),
        ("SIGTERM", "was stopped"),
    ],
)
def test_other_signals_are_named(sig: str, words: str) -> None:
    death = describe_exit(_child_dying_by(sig), "the label job", "llama.cpp")
    assert death is not None and death.signal_name == sig
    assert words in death.title and death.hint


def test_unknown_signal_number_still_gets_a_report() -> None:
    death = describe_exit(-63, "the adapt job")
    assert death is not None and "died by" in death.title and death.hint


def test_a_child_out_of_memory_in_python_is_named_from_its_last_words() -> None:
    child = subprocess.run(
        [sys.executable, "-c", "raise MemoryError()"], capture_output=True, text=True, timeout=60
    )
    death = describe_exit(
        child.returncode, "the score job (gemma3-270m)", "transformers", child.stderr
    )
    assert death is not None and death.signal_name == ""
    assert death.title == "the score job (gemma3-270m) ran out of memory"
    cuda = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"
    assert describe_exit(1, "the train job", "transformers", cuda) is not None


def test_an_ordinary_exit_is_no_death() -> None:
    assert describe_exit(0, "the score job") is None
    assert (
        describe_exit(2, "the score job", last_words="error: no samples\n  fix: generate") is None
    )
    assert describe_exit(None, "the score job") is None  # still running


def test_a_death_becomes_the_error_a_command_raises() -> None:
    death = describe_exit(-signal.SIGILL, "the score job (gemma3-270m)", "llama.cpp")
    assert death is not None
    error = death.error()
    assert isinstance(error, BackendError) and error.exit_code == 2
    assert str(error).startswith("llama.cpp crashed with an illegal instruction")
    assert "fix: " in str(error)

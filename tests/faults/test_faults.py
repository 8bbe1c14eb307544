"""The fault-injection suite (issue 15): kill -9 and Ctrl-C for every stage and for corpus add,
concurrent writers, a full disk, hostile text and bad inputs, with a summary in the issue's figures.

    python -m pytest tests/faults -m slow -s     # prints the summary table

Goal: 0 lost, 0 duplicated, 0 tracebacks, 0 wrong successes; every bad input refused cleanly.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults.bad_inputs import CASES, Result, classify, fresh_workspace, restore_writable
from tests.faults.kills import (
    Fault,
    corpus_faults,
    corpus_files,
    count,
    index_in_step,
    pipeline_workspace,
    stage_faults,
    train_faults,
)
from tests.hostile import cli_commands, fill_hostile, is_clean

pytestmark = pytest.mark.slow


def concurrent_faults(root: Path, scratch: Path) -> list[Fault]:
    """Two corpus adds and three searches at once; two generate processes on the same slots."""
    faults = []
    fault = Fault("two corpus adds + searches at once", "concurrent")
    first, second = corpus_files(scratch / "c1"), scratch / "c2"
    second.mkdir()
    for i in range(10):
        (second / f"note{i}.txt").write_text(f"The narwhal number {i} swims north.")
    procs = [
        _start(root, "corpus", "add", "-q", str(first)),
        _start(root, "corpus", "add", "-q", str(second)),
        *[_start(root, "corpus", "search", "narwhal bus fare") for _ in range(3)],
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=900)
        fault.tracebacks += "Traceback" in err
        if proc.returncode != 0:
            fault.note += f" {proc.args[-1]!r} exit {proc.returncode}: {err[-200:]}"
    fault.integrity = index_in_step(root)
    fault.lost = max(
        0, 10 - count(root, "SELECT COUNT(*) FROM passages WHERE text LIKE '%narwhal%'")
    )
    faults.append(fault)

    fault = Fault("two generate processes at once", "concurrent")
    procs = [_start(root, "generate", "-q"), _start(root, "generate", "-q")]
    for proc in procs:
        _, err = proc.communicate(timeout=900)
        fault.tracebacks += "Traceback" in err
    slots = count(root, "SELECT COUNT(*) FROM samples WHERE origin='initial'")
    unique = count(root, "SELECT COUNT(DISTINCT slot_key) FROM samples WHERE origin='initial'")
    fault.duplicated = slots - unique
    faults.append(fault)
    return faults


def disk_faults(scratch: Path) -> list[Fault]:
    """corpus add onto a full disk: a real 3 MB tmpfs where mounting is allowed (else skipped)."""
    fault = Fault("corpus add on a full disk (tmpfs)", "disk full")
    mount = scratch / "disk"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        return []
    try:
        root = fresh_workspace(mount)
        big = scratch / "big"
        corpus_files(big)
        result = _run(root, "corpus", "add", "-q", str(big))
        fault.tracebacks += "Traceback" in result.stderr
        if result.returncode != 2 or "disk full at" not in result.stderr:
            fault.wrong_success += 1
            fault.note = result.stderr[-300:]
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
    return [fault]


def hostile_faults(scratch: Path) -> list[Fault]:
    """Hostile text (escape sequences, NUL, OSC, markup) through every command that shows data."""
    from engine.workspace import init_workspace

    ws = init_workspace(scratch / "hostile", "demo")
    ids = fill_hostile(ws)
    ws.close()
    faults = []
    for args, _ in cli_commands(ids):
        fault = Fault(f"hostile text: sdrl {' '.join(args)}", "hostile")
        result = _run(ws.root, *args)
        fault.tracebacks += "Traceback" in result.stderr
        if result.returncode != 0 or not is_clean(result.stdout + result.stderr):
            fault.wrong_success += 1
            fault.note = (
                "control characters reached the terminal"
                if result.returncode == 0
                else result.stderr[-200:]
            )
        faults.append(fault)
    return faults


def _start(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "engine.cli.main", "-w", str(root), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli.main", "-w", str(root), *args],
        capture_output=True,
        text=True,
        timeout=900,
    )


def bad_inputs(tmp_path: Path) -> list[Result]:
    results = []
    for i, case in enumerate(CASES):
        folder = tmp_path / f"bad{i}"
        folder.mkdir()
        root = fresh_workspace(folder)
        try:
            results.append(classify(case, root, folder / "scratch"))
        finally:
            restore_writable(root)
    results.append(_truncated_gguf(tmp_path))
    return results


def _truncated_gguf(tmp_path: Path) -> Result:
    """A truncated GGUF as the base model, through the transformers loader (hf_folder)."""
    from tests.faults.bad_inputs import Case

    case = Case("base model a truncated GGUF (transformers)", lambda r, s: [], ("truncated",))
    code = (
        "import sys; from pathlib import Path; from engine.models import resolve_model, hf_folder\n"
        "from engine.errors import SdrlError\n"
        "bad = Path(sys.argv[1]); bad.write_bytes(resolve_model('gemma3-270m').path.read_bytes()[:2_000_000])\n"
        "try:\n    hf_folder(resolve_model(str(bad)))\nexcept SdrlError as e:\n    print(e.title); sys.exit(2)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "trunc.gguf")],
        capture_output=True,
        text=True,
        timeout=600,
        env={**__import__("os").environ, "SDRL_HOME": str(tmp_path / "home")},
    )
    if "Traceback" in result.stderr:
        return Result(case, "traceback", result.stderr[-300:])
    if result.returncode == 0:
        return Result(case, "wrong_success")
    return Result(case, "refused" if "truncated" in result.stdout else "misleading", result.stdout)


def summary(faults: list[Fault], results: list[Result]) -> str:
    kinds: dict[str, int] = {}
    for fault in faults:
        kinds[fault.signal] = kinds.get(fault.signal, 0) + 1
    verdicts = {
        v: sum(r.verdict == v for r in results)
        for v in ("refused", "ok", "misleading", "traceback", "wrong_success")
    }
    lines = [
        "fault-injection summary (tests/faults)",
        f"faults injected: {len(faults)} ("
        + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        + ")",
        f"  lost {sum(f.lost for f in faults)}, duplicated {sum(f.duplicated for f in faults)}, "
        f"tracebacks {sum(f.tracebacks for f in faults)}, wrong successes {sum(f.wrong_success for f in faults)}, "
        f"integrity held {sum(not f.integrity for f in faults)}/{len(faults)}",
        f"bad inputs: {len(results)}: {verdicts['refused']} refused cleanly, {verdicts['ok']} accepted as they should be, "
        f"{verdicts['misleading']} misleading, {verdicts['traceback']} traceback, {verdicts['wrong_success']} wrongly succeeded",
        f"total faults + bad inputs: {len(faults) + len(results)}",
    ]
    for fault in faults:
        if (
            fault.lost
            or fault.duplicated
            or fault.tracebacks
            or fault.wrong_success
            or fault.integrity
            or fault.note
        ):
            lines.append(
                f"  ! {fault.signal} {fault.name}: lost {fault.lost} dup {fault.duplicated} "
                f"tb {fault.tracebacks} wrong {fault.wrong_success} {fault.integrity} {fault.note}"
            )
    for result in results:
        if result.verdict not in ("refused", "ok"):
            lines.append(f"  ! {result.verdict}: {result.case.name}: {result.detail[:200]}")
    return "\n".join(lines)


def test_fault_injection_suite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = pipeline_workspace(tmp_path / "pipeline")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    faults = corpus_faults(root, corpus_files(scratch / "corpus"))
    faults += stage_faults(root)
    faults += train_faults(root)
    faults += concurrent_faults(pipeline_workspace(tmp_path / "concurrent"), scratch)
    faults += disk_faults(scratch)
    faults += hostile_faults(scratch)
    results = bad_inputs(tmp_path)
    report = summary(faults, results)
    with capsys.disabled():
        print("\n" + report)
    injected = [f for f in faults if "ended before" not in f.note]
    assert len(faults) + len(results) >= 85
    assert sum(f.lost for f in faults) == 0, report
    assert sum(f.duplicated for f in faults) == 0, report
    assert sum(f.tracebacks for f in faults) == 0, report
    assert sum(f.wrong_success for f in faults) == 0, report
    assert all(not f.integrity for f in faults), report
    assert len(injected) == len(faults), report
    assert all(r.verdict in ("refused", "ok") for r in results), report

"""Every bad input of the fault suite's table is refused cleanly (one `error:`/`fix:` naming what is
wrong, exit 2, no traceback, nothing half-written), and every read-only inspection works.

The table is tests/faults/bad_inputs.py; the slow fault suite runs it again for its summary.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.faults.bad_inputs import CASES, classify, fresh_workspace, restore_writable
from tests.faults.kills import corpus_files


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_refused_cleanly(case, tmp_path: Path) -> None:
    root = fresh_workspace(tmp_path)
    try:
        result = classify(case, root, tmp_path / "scratch")
    finally:
        restore_writable(root)
    assert result.verdict == ("ok" if case.expect_ok else "refused"), (result.detail, result.output)


def test_ctrl_c_stops_corpus_add_inside_the_folder_with_exit_130(workspace, tmp_path: Path) -> None:
    files = corpus_files(tmp_path / "many")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine.cli.main",
            "-w",
            str(workspace.root),
            "corpus",
            "add",
            str(files),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    while proc.poll() is None and not workspace.store.scalar("SELECT COUNT(*) FROM documents"):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and "stopped" in err
    added = workspace.store.scalar("SELECT COUNT(*) FROM documents")
    assert 1 <= added < len(list(files.iterdir()))

"""Kill `sdrl generate` with SIGKILL mid-way (real bundled model) and run it again: nothing lost, duplicated or labelled twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_sdrl

N = 3
VOTES = 1


def _count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(db, timeout=30)
    try:
        return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:  # tables not made yet
        return 0
    finally:
        conn.close()


def _run_and_kill(root: Path, when: str, limit: float = 400) -> bool:
    """Start `sdrl generate`, SIGKILL it as soon as `when` counts at least one row; False if it ended first."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine.cli.main",
            "generate",
            "-n",
            str(N),
            "--votes",
            str(VOTES),
            "-q",
        ],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + limit
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if _count(root / "sdrl.db", when) >= 1:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.1)
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_sigkill_generate_and_resume(workspace) -> None:
    root = workspace.root
    workspace.task_file.write_text(
        workspace.task_file.read_text().replace(
            "max_tokens = 256\nvote_max_tokens = 256", "max_tokens = 160\nvote_max_tokens = 128"
        )
    )
    db = root / "sdrl.db"

    killed = _run_and_kill(root, "SELECT COUNT(*) FROM samples")
    assert killed, "generate finished before it could be killed"
    before = {
        r[0]: r[1] for r in sqlite3.connect(db).execute("SELECT slot_key, question FROM samples")
    }
    assert 1 <= len(before) < N
    assert (
        _count(db, "SELECT COUNT(*) FROM votes") == 0
    )  # killed while generating, before labelling

    _run_and_kill(
        root, "SELECT COUNT(*) FROM samples WHERE status IN ('labelled', 'unlabelable')"
    )  # may finish first

    final = run_sdrl("generate", "-n", str(N), "--votes", str(VOTES), cwd=root)
    assert final.returncode == 0, final.stderr
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT id, slot_key, question, status FROM samples ORDER BY slot_key"
    ).fetchall()
    slots = [r[1] for r in rows]
    assert len(slots) == len(set(slots)) and set(slots) <= {f"initial:{i}" for i in range(N)}
    gave_up = {
        k.partition("#")[0]
        for (k,) in conn.execute("SELECT item_key FROM failures WHERE stage='generate'")
        if conn.execute(
            "SELECT COUNT(*) FROM failures WHERE stage='generate' AND item_key LIKE ?",
            (k.partition("#")[0] + "#%",),
        ).fetchone()[0]
        >= 3
    }
    assert (
        len(slots) + len(gave_up - set(slots)) == N
    )  # every slot is a sample or a counted give-up
    for slot, question in before.items():  # nothing finished before the kill was lost or rewritten
        assert (slot, question) in {(r[1], r[2]) for r in rows}
    assert not [r for r in rows if r[3] == "pending"]
    for sample_id, _, _, status in rows:
        n_votes = conn.execute(
            "SELECT COUNT(*) FROM votes WHERE sample_id=?", (sample_id,)
        ).fetchone()[0]
        assert n_votes == (VOTES + 1 if status in ("labelled", "unlabelable") else 0)
    assert "samples:" in final.stdout

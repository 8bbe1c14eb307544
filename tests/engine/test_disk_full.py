"""A full disk is one clear message, exit 2, nothing half-written: on a real small tmpfs where the
machine lets us mount one, through SQLite's own "disk is full" (max_page_count), and /dev/full."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from engine.errors import DiskFullError
from engine.store import Store
from engine.workspace import init_workspace
from tests.conftest import run_sdrl


def _big_jsonl(path: Path, megabytes: int) -> Path:
    line = json.dumps({"text": "walrus " * 150}) + "\n"
    with path.open("w") as f:
        for _ in range(megabytes * 2**20 // len(line)):
            f.write(line)
    return path


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 3 MB tmpfs, or a skip where mounting is not allowed (the other tests inject the error)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip("cannot mount a tmpfs here; the injected-ENOSPC tests cover this")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_corpus_add_on_a_full_tmpfs(small_disk: Path, tmp_path: Path) -> None:
    ws = init_workspace(small_disk / "ws", "blank")
    ws.close()
    big = _big_jsonl(tmp_path / "big.jsonl", 4)
    result = run_sdrl("corpus", "add", str(big), cwd=ws.root)
    assert result.returncode == 2, result.stderr
    assert "error: disk full at" in result.stderr and "MB free" in result.stderr
    assert "Traceback" not in result.stderr
    store = Store(ws.db_path)
    assert store.scalar("SELECT COUNT(*) FROM passages") == 0  # nothing half-written
    store.close()


def test_sqlite_full_is_one_clear_error_and_the_store_stays_usable(workspace) -> None:
    store = workspace.store
    pages = store.scalar("PRAGMA page_count")
    store.conn.execute(f"PRAGMA max_page_count={pages}")
    with (
        pytest.raises(DiskFullError, match="disk full at") as raised,
        store.transaction() as conn,
    ):
        conn.execute("CREATE TABLE filler(x)")
        conn.executemany("INSERT INTO filler VALUES (?)", [("x" * 4000,)] * 200)
    assert "MB free" in raised.value.title and raised.value.exit_code == 2
    assert not store.conn.in_transaction  # rolled back once, no "no transaction is active"
    store.conn.execute(f"PRAGMA max_page_count={pages * 1000}")
    with store.transaction() as conn:  # usable again once space is back
        conn.execute("INSERT INTO meta(key, value) VALUES ('after', '1')")
    assert store.scalar("SELECT value FROM meta WHERE key='after'") == "1"


def test_cli_reports_sqlite_full_with_exit_2(
    workspace, tmp_path: Path, monkeypatch, capsys
) -> None:
    from engine.cli.main import main

    real_init = Store.__init__

    def full_after_open(self, path, **kwargs) -> None:  # type: ignore[no-untyped-def]
        real_init(self, path, **kwargs)
        self.conn.execute(f"PRAGMA max_page_count={self.scalar('PRAGMA page_count')}")

    monkeypatch.setattr(Store, "__init__", full_after_open)
    big = _big_jsonl(tmp_path / "big.jsonl", 1)
    with pytest.raises(SystemExit) as exited:
        main(["-w", str(workspace.root), "corpus", "add", str(big)])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "error: disk full at" in err and str(workspace.db_path) in err


@pytest.mark.slow
def test_training_on_a_full_disk_stops_cleanly_and_resumes(tmp_path: Path) -> None:
    """The run folder on a real tmpfs: too small for the first checkpoint (a write cut short), then
    for a second one (refused before writing); each time the run fails with the resume command and
    no half-written checkpoint, and once there is room it resumes to the end."""
    from engine.runs import get_run, resume_run, start_run
    from engine.tiny import tiny_workspace
    from engine.training.run_folder import incomplete_checkpoints, latest_checkpoint

    ws = tiny_workspace(tmp_path / "tw", max_steps=3)
    ws.runs_dir.mkdir(exist_ok=True)
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(ws.runs_dir)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")

    def resize(size: str) -> None:
        subprocess.run(["mount", "-o", f"remount,size={size}", str(ws.runs_dir)], check=True)

    def wait(run_id: str):  # type: ignore[no-untyped-def]
        deadline = time.time() + 300
        info = get_run(ws.store, run_id)
        while info.status in ("queued", "running") and time.time() < deadline:
            time.sleep(0.5)
            info = get_run(ws.store, run_id)
        return info

    try:
        run_id = start_run(ws)
        folder = ws.runs_dir / run_id
        info = wait(run_id)  # 1 MB: the first checkpoint (about 3.7 MB) cannot be written
        assert info.status == "failed", info.message
        assert "disk full at" in info.message and f"sdrl runs resume {run_id}" in info.message
        assert "from the start" in info.message
        assert latest_checkpoint(folder) is None and not incomplete_checkpoints(folder)
        assert "Traceback" not in (folder / "train.log").read_text()

        resize("6m")  # room for one checkpoint, not two: the second is refused before writing
        resume_run(ws, run_id)
        info = wait(run_id)
        assert info.status == "failed", info.message
        assert "disk full at" in info.message and "this needs about" in info.message
        assert "continues from step 1" in info.message
        assert latest_checkpoint(folder) == folder / "checkpoints" / "checkpoint-1"
        assert not incomplete_checkpoints(folder)

        resize("64m")
        resume_run(ws, run_id)
        info = wait(run_id)
        assert info.status == "finished", info.message
        assert info.step == 3
        assert (folder / "adapter" / "adapter_model.safetensors").is_file()
    finally:
        subprocess.run(["umount", "-l", str(ws.runs_dir)], check=False)
        ws.close()

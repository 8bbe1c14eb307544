"""A full disk is one clear message, exit 2, nothing half-written: on a real small tmpfs where the
machine lets us mount one, through SQLite's own "disk is full" (max_page_count), and /dev/full."""

from __future__ import annotations

import json
import subprocess
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

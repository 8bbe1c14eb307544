"""The CLI end to end in subprocesses: init, revisions and diffs, status, and one test per bad input."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import sys
from pathlib import Path

import pytest

from engine.schema import SCHEMA_VERSION


def _write_editor(tmp_path: Path, old: str, new: str) -> str:
    """An $EDITOR that replaces `old` by `new` in the file it is given."""
    script = tmp_path / "fake_editor.py"
    script.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1])\n"
        f"p.write_text(p.read_text().replace({old!r}, {new!r}))\n"
    )
    return f"{sys.executable} {script}"


def test_init_two_revisions_and_diff(tmp_path, sdrl) -> None:
    ws = tmp_path / "demo"
    result = sdrl("init", str(ws))
    assert result.returncode == 0, result.stderr
    assert (ws / "task.toml").is_file() and (ws / "sdrl.db").is_file()
    assert (ws / "corpus").is_dir() and (ws / "runs").is_dir()
    assert any((ws / "corpus").iterdir()), "the demo workspace ships a corpus"

    editor = _write_editor(tmp_path, "n_samples = 20", "n_samples = 30")
    result = sdrl("task", "edit", "-m", "more samples", cwd=ws, env={"EDITOR": editor})
    assert result.returncode == 0, result.stderr
    assert "saved revision 2" in result.stdout

    log = json.loads(sdrl("task", "log", "--json", cwd=ws).stdout)
    assert [r["id"] for r in log] == [1, 2]
    assert log[1]["message"] == "more samples"

    diff = sdrl("task", "diff", "1", "2", cwd=ws)
    assert diff.returncode == 0
    assert "-n_samples = 20" in diff.stdout and "+n_samples = 30" in diff.stdout

    shown = sdrl("task", "show", "-r", "1", cwd=ws)
    assert "n_samples = 20" in shown.stdout


def test_manual_edit_then_save_makes_a_revision(workspace, sdrl) -> None:
    text = workspace.task_file.read_text().replace("votes = 4", "votes = 6")
    workspace.task_file.write_text(text)
    result = sdrl("-w", str(workspace.root), "task", "save", "-m", "six votes")
    assert result.returncode == 0 and "saved revision 2" in result.stdout
    again = sdrl("-w", str(workspace.root), "task", "save")
    assert "unchanged" in again.stdout


def test_status_json_counts_stages(workspace, sdrl) -> None:
    result = sdrl("-w", str(workspace.root), "status", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["task"] == "demo-town-sums"
    assert data["stages"]["generate"]["samples"] == 0
    assert data["latest_run"] is None


def _assert_clean_failure(result, *needles: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert "error:" in result.stderr and "fix:" in result.stderr
    for needle in needles:
        assert needle in result.stderr


def test_malformed_task_toml(workspace, sdrl) -> None:
    workspace.task_file.write_text('name = "broken\n')
    before = workspace.store.scalar("SELECT COUNT(*) FROM revisions")
    _assert_clean_failure(sdrl("-w", str(workspace.root), "status"), "not valid TOML")
    assert workspace.store.scalar("SELECT COUNT(*) FROM revisions") == before


def test_invalid_edit_changes_nothing_and_keeps_the_edit(workspace, sdrl, tmp_path) -> None:
    original = workspace.task_file.read_text()
    editor = _write_editor(tmp_path, 'answer_type = "numeric"', 'answer_type = "roman"')
    result = sdrl("-w", str(workspace.root), "task", "edit", env={"EDITOR": editor})
    _assert_clean_failure(result, "answer_type", "task.toml.rejected")
    assert workspace.task_file.read_text() == original
    assert 'answer_type = "roman"' in (workspace.root / "task.toml.rejected").read_text()
    assert workspace.store.scalar("SELECT COUNT(*) FROM revisions") == 1


def test_unknown_answer_type(workspace, sdrl) -> None:
    workspace.task_file.write_text(workspace.task_file.read_text().replace('"numeric"', '"roman"'))
    _assert_clean_failure(
        sdrl("-w", str(workspace.root), "task", "save"), "answer_type", "multiple_choice"
    )


def test_missing_model_file(workspace, sdrl) -> None:
    text = workspace.task_file.read_text().replace(
        'base = "gemma3-270m"', 'base = "/nowhere/model.gguf"'
    )
    workspace.task_file.write_text(text)
    _assert_clean_failure(
        sdrl("-w", str(workspace.root), "task", "check"), "/nowhere/model.gguf", "gguf"
    )


def test_model_file_that_is_not_gguf(workspace, sdrl, tmp_path) -> None:
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"\x00not a gguf at all")
    text = workspace.task_file.read_text().replace('base = "gemma3-270m"', f'base = "{fake}"')
    workspace.task_file.write_text(text)
    _assert_clean_failure(sdrl("-w", str(workspace.root), "task", "check"), "is not a GGUF")


def test_path_that_is_not_a_workspace(tmp_path, sdrl) -> None:
    _assert_clean_failure(sdrl("-w", str(tmp_path), "status"), "not an sdrl workspace", "sdrl init")
    assert list(tmp_path.iterdir()) == []
    _assert_clean_failure(sdrl("-w", str(tmp_path / "nope"), "status"), "does not exist")


def test_read_only_workspace(workspace, sdrl) -> None:
    root = workspace.root
    workspace.close()
    db_before = (root / "sdrl.db").read_bytes()
    mode = root.stat().st_mode
    os.chmod(root, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    try:
        _assert_clean_failure(sdrl("-w", str(root), "task", "save"), "read-only")
    finally:
        os.chmod(root, mode)
    assert (root / "sdrl.db").read_bytes() == db_before


def test_newer_database_schema(workspace, sdrl) -> None:
    root = workspace.root
    workspace.close()
    conn = sqlite3.connect(root / "sdrl.db")
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.close()
    _assert_clean_failure(sdrl("-w", str(root), "status"), "newer sdrl", "upgrade")


def test_init_refuses_unknown_template_and_existing_workspace(tmp_path, sdrl, workspace) -> None:
    _assert_clean_failure(
        sdrl("init", str(tmp_path / "x"), "--template", "nope"), "Unknown template", "blank"
    )
    assert not (tmp_path / "x").exists()
    _assert_clean_failure(sdrl("init", str(workspace.root)), "already a workspace")


@pytest.mark.parametrize("template", ["demo", "math", "multiple-choice", "blank"])
def test_every_template_is_valid(tmp_path, sdrl, template) -> None:
    result = sdrl("init", str(tmp_path / template), "--template", template)
    assert result.returncode == 0, result.stderr
    assert sdrl("-w", str(tmp_path / template), "task", "show", "--json").returncode == 0


def test_every_command_has_help(sdrl) -> None:
    from engine.cli.main import COMMANDS

    for name in COMMANDS:
        result = sdrl(name, "--help")
        assert result.returncode == 0, (name, result.stderr)
        assert "Usage:" in result.stdout

"""Text from data never drives the terminal: every CLI command that shows data, fed hostile strings."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_sdrl
from tests.hostile import HOSTILE, MARK, cli_commands, fill_hostile, is_clean


@pytest.fixture
def hostile_ws(workspace):
    ids = fill_hostile(workspace)
    workspace.close()
    return workspace, ids


def test_every_command_shows_hostile_text_visibly(hostile_ws) -> None:
    ws, ids = hostile_ws
    for args, shows_hostile in cli_commands(ids):
        result = run_sdrl(*args, cwd=ws.root)
        shown = result.stdout + result.stderr
        assert result.returncode == 0, (args, shown)
        assert is_clean(shown), (args, shown)
        if shows_hostile:
            assert "\\x1b[2J" in shown, (args, shown)


def test_json_output_keeps_the_original_text(hostile_ws) -> None:
    ws, ids = hostile_ws
    result = run_sdrl("samples", "show", str(ids["sample"]), "--json", cwd=ws.root)
    assert is_clean(result.stdout)
    assert json.loads(result.stdout)["question"] == f"{MARK} question {HOSTILE} end"


def test_ingest_keeps_the_original_text(hostile_ws) -> None:
    ws, _ = hostile_ws
    stored = ws.store.scalar("SELECT text FROM passages WHERE text LIKE 'hostile%'")
    assert HOSTILE in stored

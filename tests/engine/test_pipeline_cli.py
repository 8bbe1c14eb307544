"""The pipeline commands as a user runs them: exit codes, error hints, stats JSON, and no torch for --help."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from engine.workspace import Workspace
from tests.engine.test_probe import add_samples, configure
from tests.engine.test_stats import scored_workspace


def test_pipeline_module_does_not_import_torch() -> None:
    code = (
        "import sys, engine.cli.pipeline, engine.stages.score, engine.stages.adapt, engine.stats; "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'heavy import'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_help_lists_the_pipeline_commands(sdrl) -> None:
    done = sdrl("--help")
    assert done.returncode == 0
    for name in ("probe", "adapt", "score", "select", "stats", "run"):
        assert f"  {name} " in done.stdout
    run_help = sdrl("run", "--help")
    assert all(opt in run_help.stdout for opt in ("-n", "--votes", "-k", "-m"))


def test_select_and_stats_json(workspace: Workspace, sdrl) -> None:
    scored_workspace(workspace)
    done = sdrl("-w", str(workspace.root), "select", "--rule", "hard", "-m", "3")
    assert done.returncode == 0, done.stderr
    assert "train=3" in done.stderr
    stats = sdrl("-w", str(workspace.root), "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    data = json.loads(stats.stdout)
    assert data["pass_rate"]["before_adaptation"] == [1, 0, 1, 0, 0, 1, 0, 1, 0, 1]
    assert len(data["pass_rate"]["after_adaptation"]) == 10
    assert data["selection"]["rule"] == "hard" and data["selection"]["train"] == 3
    text = sdrl("-w", str(workspace.root), "stats")
    assert "selection #1 rule hard: 3 train" in text.stdout


def test_bad_input_gives_error_and_fix(workspace: Workspace, sdrl) -> None:
    root = str(workspace.root)
    empty = sdrl("-w", root, "score", "-k", "2")
    assert (
        empty.returncode == 2 and "No labelled samples" in empty.stderr and "fix:" in empty.stderr
    )
    add_samples(workspace, [("What is 2 + 2?", "4")])
    bad_k = sdrl("-w", root, "score", "-k", "0")
    assert bad_k.returncode == 2 and "k = 0" in bad_k.stderr and "fix:" in bad_k.stderr
    band = sdrl("-w", root, "select", "--band", "0.9", "0.1")
    assert band.returncode == 2 and "above upper bound" in band.stderr and "fix:" in band.stderr
    assert workspace.store.scalar("SELECT COUNT(*) FROM selections") == 0
    assert workspace.store.scalar("SELECT COUNT(*) FROM scores") == 0


@pytest.mark.slow
def test_run_small_pipeline_end_to_end_then_resume(workspace: Workspace, sdrl) -> None:
    configure(workspace, difficulty={"probe_max_tokens": 16}, scoring={"max_tokens": 16})
    root = str(workspace.root)
    done = sdrl("-w", root, "run", "-n", "2", "--votes", "1", "-k", "2", "-m", "2")
    assert done.returncode == 0, done.stderr
    for stage in ("generate:", "label:", "probe:", "adapt:", "score:", "select:"):
        assert stage in done.stderr
    stats = json.loads(sdrl("-w", root, "stats", "--json").stdout)
    assert stats["samples"]["scored"] >= 1
    assert (
        sum(stats["pass_rate"]["before_adaptation"]) >= 1
        and len(stats["pass_rate"]["after_adaptation"]) == 10
    )
    assert stats["probe"]["solved"] + stats["probe"]["unsolved"] >= 1
    assert stats["selection"] is not None and stats["selection"]["rule"] == "paper"
    scored_at = workspace.store.query("SELECT sample_id, created_at FROM scores ORDER BY sample_id")
    again = sdrl("-w", root, "run", "-n", "2", "--votes", "1", "-k", "2", "-m", "2")
    assert again.returncode == 0, again.stderr
    assert "scored=0" in again.stderr.replace("\n", "")  # resumed: nothing re-scored
    assert [
        tuple(r)
        for r in workspace.store.query(
            "SELECT sample_id, created_at FROM scores ORDER BY sample_id"
        )
    ] == [tuple(r) for r in scored_at]
    assert workspace.store.scalar("SELECT COUNT(*) FROM selections") == 2

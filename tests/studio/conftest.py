"""Studio test helpers: a populated workspace and an app factory (the real app, a real SQLite store)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.workspace import Workspace
from studio.app import StudioApp
from tests.studio.sample_data import add_evals, add_run, add_samples, fix_revision_times


@pytest.fixture
def populated(workspace: Workspace) -> Workspace:
    fix_revision_times(workspace)
    add_samples(workspace, 60)
    add_run(workspace)
    add_evals(workspace, "20260101-000000-abcd")
    return workspace


@pytest.fixture
def make_app():
    def make(workspace: Workspace, start: str = "pipeline") -> StudioApp:
        # a long poll interval: tests drive polling themselves, so nothing depends on timing
        return StudioApp(workspace, start=start, poll_interval=3600)

    return make


@pytest.fixture
def fake_worker():
    """A process whose command line looks like a training worker, so engine.runs counts the run as alive."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)", "engine.training.worker"]
    )
    yield proc.pid
    proc.kill()
    proc.wait()

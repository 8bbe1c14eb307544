"""Fixtures: a fresh workspace per test, the CLI as a subprocess, a generated large corpus, GPU skips."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.workspace import Workspace, init_workspace

# spinning OpenMP threads slow torch several-fold on a shared CPU; set before anything imports torch
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

REPO = Path(__file__).resolve().parent.parent


def _has_gpu() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if any(item.get_closest_marker("gpu") for item in items) and not _has_gpu():
        skip = pytest.mark.skip(reason="needs a CUDA GPU")
        for item in items:
            if item.get_closest_marker("gpu"):
                item.add_marker(skip)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A fresh workspace from the demo template (math, numeric answers, small corpus)."""
    ws = init_workspace(tmp_path / "ws", "demo")
    yield ws
    ws.close()


@pytest.fixture
def make_workspace(tmp_path: Path):
    made: list[Workspace] = []

    def make(template: str = "demo", name: str = "ws") -> Workspace:
        ws = init_workspace(tmp_path / name, template)
        made.append(ws)
        return ws

    yield make
    for ws in made:
        ws.close()


def run_sdrl(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    input: str | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run the real `sdrl` CLI in a subprocess (exit codes, stdout and stderr as a user sees them)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "engine.cli.main", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        input=input,
        timeout=timeout,
    )


@pytest.fixture
def sdrl():
    return run_sdrl


@pytest.fixture(scope="session")
def qa_corpus_jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated MedQuAD-sized jsonl corpus (16,407 records, ~26 MB); tests need nothing outside the repo."""
    from tests.engine.synthetic_corpus import write_qa_corpus

    return write_qa_corpus(tmp_path_factory.mktemp("corpus") / "qa.jsonl")

"""Two `sdrl corpus add` at once and a search during them: no traceback, and every passage indexed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from engine.corpus.index import PassageIndex, writer_lock
from engine.corpus.ingest import iter_ingest
from engine.events import StageWarning


def _big_jsonl(path: Path, n: int, word: str) -> Path:
    with path.open("w") as f:
        for i in range(n):
            f.write(json.dumps({"text": f"record {i} about {word} number {i * 7}"}) + "\n")
    return path


def _start(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "engine.cli.main", *args],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_concurrent_adds_and_search_lose_nothing(workspace, tmp_path: Path) -> None:
    root = workspace.root
    first = _big_jsonl(tmp_path / "first.jsonl", 6000, "walrus")
    second = tmp_path / "second"
    second.mkdir()
    for i in range(12):
        (second / f"note{i}.txt").write_text(f"The narwhal number {i} swims north.")
    (tmp_path / "seed.txt").write_text("A seed passage so that a committed index exists.")
    assert _start(root, "corpus", "add", str(tmp_path / "seed.txt")).wait(timeout=120) == 0
    procs = [
        _start(root, "corpus", "add", "-q", str(first)),
        _start(root, "corpus", "add", str(second)),
    ]
    searches = [_start(root, "corpus", "search", "narwhal walrus", "-k", "3") for _ in range(3)]
    results = [(p, *p.communicate(timeout=600)) for p in procs + searches]
    for proc, out, err in results:
        assert "Traceback" not in err, err
        assert proc.returncode == 0, (proc.args, out, err)
    workspace.close()
    report = PassageIndex(workspace.index_dir, workspace.store).check(repair=False)
    assert report.store_passages == 6013
    assert report.in_step and report.indexed_passages == 6013
    found = _start(root, "corpus", "search", "narwhal", "-k", "20").communicate(timeout=120)[0]
    assert found.count("narwhal number") == 12


def test_writer_waits_for_the_lock_with_a_warning(workspace, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Tulips bloom in April.")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from engine.corpus.index import writer_lock\n"
            "with writer_lock(Path(sys.argv[1])):\n print('held', flush=True); time.sleep(2)",
            str(workspace.index_dir),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    events = list(iter_ingest(workspace.store, workspace.index_dir, [tmp_path / "a.txt"]))
    holder.wait(timeout=60)
    warnings = [e for e in events if isinstance(e, StageWarning)]
    assert warnings and "waiting" in warnings[0].message
    assert PassageIndex(workspace.index_dir, workspace.store).in_step()
    with writer_lock(workspace.index_dir):  # released: taking it again does not block
        pass


def test_check_cli_reports_and_repairs(workspace, sdrl, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Tulips bloom in April.")
    assert sdrl("corpus", "add", str(tmp_path / "a.txt"), cwd=workspace.root).returncode == 0
    (workspace.index_dir / "sdrl-index.json").unlink()
    lagging = sdrl("corpus", "check", "--no-repair", cwd=workspace.root)
    assert lagging.returncode == 1 and "out of step" in lagging.stderr
    repaired = sdrl("corpus", "check", cwd=workspace.root)
    assert repaired.returncode == 0 and "repaired" in repaired.stdout, repaired.stderr
    again = sdrl("corpus", "check", cwd=workspace.root)
    assert "in step" in again.stdout

"""Kill -9 and Ctrl-C for every stage and for corpus add, on one workspace that goes through the whole
pipeline with the real bundled instructor (llama.cpp) and the tiny base model (transformers).

Each fault: start the real `sdrl` command, wait until it has finished some items, send the signal,
note what was finished, run the command again to the end, and compare: a finished item that is gone
is lost, one made again (a new row or a new timestamp) is duplicated. Ctrl-C must end the command
with exit 130 before it finishes the stage. After every resume the store's integrity is checked.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

N_SAMPLES = 3
CORPUS_FILES = 24
# lines per corpus file: enough that the files left after the signal take far longer than one poll
CORPUS_LINES = 2000


@dataclass
class Fault:
    name: str
    signal: str  # "kill -9" or "Ctrl-C"
    lost: int = 0
    duplicated: int = 0
    tracebacks: int = 0
    wrong_success: int = 0
    integrity: list[str] = field(default_factory=list)
    note: str = ""


def sdrl(root: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli.main", "-w", str(root), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def query(root: Path, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    conn = sqlite3.connect(root / "sdrl.db", timeout=30)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def count(root: Path, sql: str) -> int:
    rows = query(root, sql)
    return int(rows[0][0]) if rows else 0


def interrupt(
    root: Path, args: list[str], ready: Callable[[], bool], signum: int, limit: float = 600
) -> tuple[int | None, str]:
    """Start `sdrl args`, send `signum` once `ready()` holds; (exit code, stderr). None: it ended first."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli.main", "-w", str(root), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + limit
    sent = False
    while proc.poll() is None and time.monotonic() < deadline:
        if ready():
            proc.send_signal(signum)
            sent = True
            break
        time.sleep(0.01)
    try:
        _, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return (proc.returncode if sent else None), err


def integrity(root: Path) -> list[str]:
    """What is inconsistent in the store (empty when all holds)."""
    problems = []
    if query(root, "PRAGMA integrity_check") != [("ok",)]:
        problems.append("sqlite integrity_check failed")
    if query(root, "PRAGMA foreign_key_check"):
        problems.append("foreign key violations")
    partial = count(
        root,
        "SELECT COUNT(*) FROM scores c WHERE c.k != (SELECT COUNT(*) FROM rollouts r "
        "WHERE r.sample_id = c.sample_id AND r.model = c.model)",
    )
    if partial:
        problems.append(f"{partial} scores without exactly k rollouts")
    orphans = count(
        root,
        "SELECT COUNT(*) FROM rollouts r WHERE NOT EXISTS (SELECT 1 FROM scores c "
        "WHERE c.sample_id = r.sample_id AND c.model = r.model)",
    )
    if orphans:
        problems.append(f"{orphans} rollouts of unscored samples")
    unvoted = count(
        root,
        "SELECT COUNT(*) FROM samples s WHERE s.status = 'labelled' AND NOT EXISTS "
        "(SELECT 1 FROM votes v WHERE v.sample_id = s.id)",
    )
    if unvoted:
        problems.append(f"{unvoted} labelled samples without votes")
    documents = {r[0]: r[1] for r in query(root, "SELECT id, n_passages FROM documents")}
    passages = dict(query(root, "SELECT document_id, COUNT(*) FROM passages GROUP BY document_id"))
    if any(passages.get(d, 0) != n for d, n in documents.items()):
        problems.append("documents whose passages are incomplete")
    return problems


def index_in_step(root: Path) -> list[str]:
    from engine.corpus.index import PassageIndex
    from engine.workspace import open_workspace

    ws = open_workspace(root, writable=False)
    try:
        report = PassageIndex(ws.index_dir, ws.store).check(repair=False)
    finally:
        ws.close()
    return [] if report.in_step else [f"corpus index out of step: {report}"]


def compare(before: dict, after: dict, fault: Fault) -> None:  # type: ignore[type-arg]
    """before/after: finished item -> the marker it was written with (timestamp or content)."""
    fault.lost += sum(1 for key in before if key not in after)
    fault.duplicated += sum(
        1 for key, mark in before.items() if key in after and after[key] != mark
    )


def run_fault(
    name: str,
    root: Path,
    args: list[str],
    ready: Callable[[], bool],
    snapshot: Callable[[], dict],  # type: ignore[type-arg]
    *,
    ctrl_c: bool,
    resume: list[str] | None = None,
    complete: Callable[[], str] | None = None,
) -> Fault:
    """One fault: interrupt `args` once `ready()`, then resume (`resume` or the same args) and compare."""
    fault = Fault(name, "Ctrl-C" if ctrl_c else "kill -9")
    code, err = interrupt(root, args, ready, signal.SIGINT if ctrl_c else signal.SIGKILL)
    if "Traceback" in err:
        fault.tracebacks += 1
    if code is None:
        fault.note = "the command ended before the fault could be injected"
    elif ctrl_c and code == 0 and complete is not None and not complete():
        fault.note = "the command ended before the fault could be injected (all work done)"
    elif ctrl_c and code != 130:
        fault.wrong_success += 1
        fault.note = f"Ctrl-C ended with exit {code}, not 130"
    before = snapshot()
    done = sdrl(root, *(resume or args))
    if "Traceback" in done.stderr:
        fault.tracebacks += 1
    if done.returncode != 0:
        fault.note += f" resume failed ({done.returncode}): {done.stderr[-300:]}"
    compare(before, snapshot(), fault)
    fault.integrity = integrity(root)
    if complete is not None and (missing := complete()):
        fault.integrity.append(missing)
    return fault


def pipeline_workspace(folder: Path) -> Path:
    """The demo workspace with the tiny base model, few and short samples: every stage runs in seconds."""
    import tomli_w

    from engine.config import load_task
    from engine.tiny import tiny_model
    from engine.workspace import init_workspace

    folder.mkdir(parents=True, exist_ok=True)
    ws = init_workspace(folder / "ws", "demo")
    data = load_task(ws.task_file).model_dump(mode="json", exclude_none=True)
    data.update(answer_type="custom", checker="engine.tiny:extract")
    data["models"]["base"] = str(tiny_model())
    data["generation"].update(n_samples=N_SAMPLES, votes=1, max_tokens=160, vote_max_tokens=96)
    data["difficulty"].update(rounds=1, max_tokens=160, probe_max_tokens=12)
    data["scoring"].update(k=4, max_tokens=12, batch_size=1)
    data["selection"].update(rule="all", m=8, validation_share=0.0)
    data["training"].update(
        max_completion_tokens=12,
        max_steps=4,
        checkpoint_every=1,
        sample_every=1,
        group_size=4,
        prompts_per_step=1,
    )
    ws.task_file.write_text(tomli_w.dumps(data), encoding="utf-8")
    ws.close()
    return ws.root


def corpus_files(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(CORPUS_FILES):
        with (folder / f"part{i:02d}.jsonl").open("w") as f:
            for j in range(CORPUS_LINES):
                f.write(
                    json.dumps({"text": f"Bus fare {i} {j}: the ticket costs {j % 9 + 1} coins."})
                    + "\n"
                )
    return folder


def corpus_faults(root: Path, files: Path) -> list[Fault]:
    """corpus add of a folder: kill -9 twice and Ctrl-C once, each on a new edition of every file."""

    def complete() -> str:
        problems = index_in_step(root)
        stale = count(root, "SELECT COUNT(*) FROM documents") - CORPUS_FILES
        if stale:
            problems.append(f"{-stale} corpus files missing after resume")
        return "; ".join(problems)

    out = []
    # Ctrl-C early (after 2 of 24 files): the 22 files left take about 30 ms each, against a 10 ms poll,
    # so even a much faster machine cannot finish them before the signal lands
    for edition, (threshold, ctrl_c) in enumerate(((1, False), (8, False), (2, True))):
        for path in sorted(files.iterdir()):
            with path.open("a") as f:
                f.write(json.dumps({"text": f"edition {edition}"}) + "\n")
        started = time.time()
        written = lambda t=started: count(  # noqa: E731
            root, f"SELECT COUNT(*) FROM documents WHERE added_at > {t}"
        )
        # the files of this edition written before the fault: each must stay as it was written
        docs = lambda t=started: dict(  # noqa: E731
            query(root, f"SELECT path, sha256 || added_at FROM documents WHERE added_at > {t}")
        )
        out.append(
            run_fault(
                f"corpus add (after {threshold} files)",
                root,
                ["corpus", "add", "-q", str(files)],
                lambda n=threshold, w=written: w() >= n,
                docs,
                ctrl_c=ctrl_c,
                complete=complete,
            )
        )
    return out


def _clear(root: Path, *statements: str) -> None:
    """Undo a stage's output, so the next fault on it has the same work to do again."""
    conn = sqlite3.connect(root / "sdrl.db", timeout=30)
    try:
        conn.execute("PRAGMA foreign_keys=ON")
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def stage_faults(root: Path) -> list[Fault]:
    """generate (with label), probe, adapt, score: kill -9 and Ctrl-C each, resumed to the end."""

    def rows(sql: str) -> Callable[[], dict]:  # type: ignore[type-arg]
        return lambda: dict(query(root, sql))

    def counter(sql: str) -> Callable[[], int]:
        return lambda: count(root, sql)

    def left(sql: str, what: str) -> Callable[[], str]:
        return lambda: f"{count(root, sql)} {what}" if count(root, sql) else ""

    questions = rows("SELECT slot_key, question FROM samples WHERE origin='initial'")
    labels = rows(
        "SELECT slot_key, label || '|' || agreement FROM samples "
        "WHERE origin='initial' AND status != 'pending'"
    )

    def initial() -> dict:  # type: ignore[type-arg]
        return {
            **{("q", k): v for k, v in questions().items()},
            **{("l", k): v for k, v in labels().items()},
        }

    probes = rows("SELECT sample_id, created_at FROM probes")
    rewrites = rows("SELECT slot_key, question FROM samples WHERE origin != 'initial'")
    scores = rows("SELECT sample_id, created_at FROM scores")
    n_initial = counter("SELECT COUNT(*) FROM samples WHERE origin='initial'")
    n_probes = counter("SELECT COUNT(*) FROM probes")
    n_rewrites = counter("SELECT COUNT(*) FROM samples WHERE origin != 'initial'")
    n_scores = counter("SELECT COUNT(*) FROM scores")
    generated = left(
        f"SELECT {N_SAMPLES} - COUNT(*) FROM samples WHERE origin='initial' AND status != 'pending'",
        "slots not generated and labelled",
    )
    probed = left(
        "SELECT COUNT(*) FROM samples s WHERE s.status='labelled' AND NOT EXISTS "
        "(SELECT 1 FROM probes p WHERE p.sample_id = s.id)",
        "labelled samples not probed",
    )
    scored = left(
        "SELECT COUNT(*) FROM samples s WHERE s.status='labelled' AND NOT EXISTS "
        "(SELECT 1 FROM scores c WHERE c.sample_id = s.id)",
        "labelled samples not scored",
    )
    faults = []
    for ctrl_c in (False, True):
        if ctrl_c:
            _clear(root, "DELETE FROM samples", "DELETE FROM failures")
        faults.append(
            run_fault(
                "generate",
                root,
                ["generate", "-q"],
                lambda: n_initial() >= 1,
                initial,
                ctrl_c=ctrl_c,
                complete=generated,
            )
        )
    for ctrl_c in (False, True):
        if ctrl_c:
            _clear(root, "DELETE FROM probes")
        faults.append(
            run_fault(
                "probe",
                root,
                ["probe", "-q"],
                lambda: n_probes() >= 1,
                probes,
                ctrl_c=ctrl_c,
                complete=probed,
            )
        )
    for ctrl_c in (False, True):
        if ctrl_c:
            _clear(root, "DELETE FROM samples WHERE origin != 'initial'")
        faults.append(
            run_fault(
                "adapt", root, ["adapt", "-q"], lambda: n_rewrites() >= 1, rewrites, ctrl_c=ctrl_c
            )
        )
    for ctrl_c in (False, True):
        if ctrl_c:
            _clear(root, "DELETE FROM rollouts", "DELETE FROM scores")
        faults.append(
            run_fault(
                "score",
                root,
                ["score", "-q"],
                lambda: n_scores() >= 1,
                scores,
                ctrl_c=ctrl_c,
                complete=scored,
            )
        )
    return faults


def train_faults(root: Path) -> list[Fault]:
    """kill -9 of the training process after a checkpoint, and Ctrl-C (SIGINT) to it; both resumed."""
    select = sdrl(root, "select", "-q")
    faults = []
    for ctrl_c in (False, True):
        fault = Fault("train", "Ctrl-C" if ctrl_c else "kill -9")
        if select.returncode != 0:
            fault.note = f"select failed: {select.stderr[-300:]}"
            faults.append(fault)
            continue
        started = sdrl(root, "train", "--detach")
        if "Traceback" in started.stderr or started.returncode != 0:
            fault.tracebacks += "Traceback" in started.stderr
            fault.note = f"train failed to start: {started.stderr[-300:]}"
            faults.append(fault)
            continue
        run_id = query(root, "SELECT id FROM runs ORDER BY created_at DESC LIMIT 1")[0][0]
        folder = Path(query(root, f"SELECT folder FROM runs WHERE id='{run_id}'")[0][0])
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and not list(
            folder.glob("checkpoints/checkpoint-*/trainer_state.json")
        ):
            time.sleep(0.2)
        pid = query(root, f"SELECT pid FROM runs WHERE id='{run_id}'")[0][0]
        if pid:
            os.kill(int(pid), signal.SIGINT if ctrl_c else signal.SIGKILL)
        _wait_run(root, run_id)
        steps_before = dict(
            query(
                root,
                f"SELECT step, value FROM run_metrics WHERE run_id='{run_id}' AND name='reward_mean'",
            )
        )
        resumed = sdrl(root, "runs", "resume", run_id)
        fault.tracebacks += "Traceback" in resumed.stderr
        status = _wait_run(root, run_id)
        if status != "finished":
            fault.note = f"resumed run ended {status}"
        events = [
            json.loads(line)
            for line in (folder / "events.jsonl").read_text().splitlines()
            if line.strip()
        ]
        steps = [
            e["step"]
            for e in events
            if e.get("type") == "Metric" and e.get("name") == "reward_mean"
        ]
        fault.duplicated += len(steps) - len(set(steps))
        after = dict(
            query(
                root,
                f"SELECT step, value FROM run_metrics WHERE run_id='{run_id}' AND name='reward_mean'",
            )
        )
        fault.lost += sum(1 for step in steps_before if step not in after)
        if sorted(after) != list(range(1, 5)):
            fault.integrity.append(f"metric steps {sorted(after)} after resume, not 1..4")
        faults.append(fault)
    return faults


def _wait_run(root: Path, run_id: str, limit: float = 600) -> str:
    from engine.runs import get_run
    from engine.store import Store

    deadline = time.monotonic() + limit
    store = Store(root / "sdrl.db")
    try:
        while time.monotonic() < deadline:
            info = get_run(store, run_id)
            if info.status not in ("queued", "running"):
                return info.status
            time.sleep(0.3)
    finally:
        store.close()
    return "still running"

"""Jobs end to end in real processes: detach, attach by prefix and `latest`, stop, busy lock, deaths by signal, Ctrl-C.

The stage is a counter plugged in through SDRL_STAGES (tests/job_stages.py), so these tests exercise
the job machinery (supervisor, worker, store, event log, CLI) without waiting for a model.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from engine.events import EventLog, Progress
from engine.jobs import get_job, start_job, stop_job
from tests.conftest import run_sdrl
from tests.job_stages import STAGES_ENV


@pytest.fixture(autouse=True)
def counter_stage(monkeypatch):
    for key, value in STAGES_ENV.items():
        monkeypatch.setenv(key, value)


def wait_until(condition, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def progressed(workspace, job_id: str) -> bool:
    info = get_job(workspace.store, job_id)
    return any(isinstance(e, Progress) for e in EventLog(info.events_path).read()[0])


def test_detach_then_attach_by_prefix_and_latest(workspace) -> None:
    root = workspace.root
    started = run_sdrl("generate", "-n", "3", "--detach", cwd=root)
    assert started.returncode == 0, started.stderr
    job_id = started.stdout.split()[3]
    assert f"sdrl attach {job_id}" in started.stdout
    by_prefix = run_sdrl("attach", job_id[:3], cwd=root)
    assert by_prefix.returncode == 0, by_prefix.stderr
    assert "count: done (done=3)" in by_prefix.stderr
    by_latest = run_sdrl("attach", "latest", cwd=root)
    assert by_latest.returncode == 0 and "count: done" in by_latest.stderr
    listed = json.loads(run_sdrl("jobs", "list", "--json", cwd=root).stdout)
    assert [(j["id"], j["stage"], j["state"]) for j in listed] == [(job_id, "generate", "finished")]
    assert isinstance(listed[0]["pid"], int) and listed[0]["cause"] == ""


def test_jobs_stop_ends_in_stopped_and_the_follower_says_so(workspace) -> None:
    root = workspace.root
    started = run_sdrl("generate", "-n", "500", "--detach", cwd=root)
    job_id = started.stdout.split()[3]
    wait_until(lambda: progressed(workspace, job_id))
    busy = run_sdrl("generate", "-n", "2", cwd=root)
    assert busy.returncode == 2 and "already running" in busy.stderr and job_id in busy.stderr
    stopped = run_sdrl("jobs", "stop", job_id[:4], cwd=root)
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.strip() == f"generate job {job_id}: stopped"
    shown = json.loads(run_sdrl("jobs", "show", "latest", "--json", cwd=root).stdout)
    assert shown["state"] == "stopped" and shown["returncode"] == 0
    attached = run_sdrl("attach", job_id, cwd=root)
    assert attached.returncode == 130 and "stopped" in attached.stderr
    assert "finished" not in attached.stderr
    again = run_sdrl("jobs", "stop", job_id, cwd=root)
    assert again.returncode == 2 and "not running" in again.stderr


@pytest.mark.parametrize(
    ("how", "words"),
    [("SIGILL", "illegal instruction (SIGILL)"), ("SIGKILL", "killed (SIGKILL)")],
)
def test_a_job_killed_by_a_signal_is_failed_with_the_cause(workspace, how, words) -> None:
    info = start_job(workspace, "generate", {"n": 50, "die_by": how})
    wait_until(lambda: not get_job(workspace.store, info.id).live)
    failed = get_job(workspace.store, info.id)
    assert failed.state == "failed" and words in failed.cause
    assert "smollm2-135m-instruct" in failed.cause  # the model it ran
    assert f"sdrl jobs resume {info.id}" in failed.hint
    assert failed.returncode == -getattr(signal, how)
    attached = run_sdrl("attach", info.id, cwd=workspace.root)
    assert attached.returncode == 128 + getattr(signal, how)
    assert words in attached.stderr and "fix:" in attached.stderr


def test_sigkill_of_the_worker_process_from_outside(workspace) -> None:
    info = start_job(workspace, "generate", {"n": 500})
    wait_until(lambda: progressed(workspace, info.id))
    os.kill(get_job(workspace.store, info.id).pid, signal.SIGKILL)
    wait_until(lambda: not get_job(workspace.store, info.id).live)
    failed = get_job(workspace.store, info.id)
    assert failed.state == "failed" and "SIGKILL" in failed.cause
    resumed = run_sdrl("jobs", "resume", info.id, cwd=workspace.root)
    assert resumed.returncode == 0, resumed.stderr
    assert get_job(workspace.store, "latest").state == "finished"


def test_ctrl_c_in_the_foreground_stops_the_job_with_exit_130(workspace) -> None:
    follower = subprocess.Popen(
        [sys.executable, "-m", "engine.cli.main", "generate", "-n", "500"],
        cwd=workspace.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: workspace.store.scalar("SELECT COUNT(*) FROM jobs") == 1)
        job_id = workspace.store.scalar("SELECT id FROM jobs")
        wait_until(lambda: progressed(workspace, job_id))
        follower.send_signal(signal.SIGINT)
        _, err = follower.communicate(timeout=60)
    finally:
        follower.kill()
    assert follower.returncode == 130, err
    assert "stopped" in err and get_job(workspace.store, job_id).state == "stopped"


def test_killing_the_foreground_cli_ends_its_job(workspace) -> None:
    """Without --detach a job is tied to its terminal, as stages always were (tests/engine/test_resume.py)."""
    follower = subprocess.Popen(
        [sys.executable, "-m", "engine.cli.main", "generate", "-n", "500", "-q"],
        cwd=workspace.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until(lambda: workspace.store.scalar("SELECT COUNT(*) FROM jobs") == 1)
    job_id = workspace.store.scalar("SELECT id FROM jobs")
    wait_until(lambda: progressed(workspace, job_id))
    follower.kill()
    follower.wait()
    wait_until(lambda: not get_job(workspace.store, job_id).live)
    assert get_job(workspace.store, job_id).state == "failed"


def test_unknown_job_and_ambiguous_prefix(workspace) -> None:
    missing = run_sdrl("jobs", "show", "nope", cwd=workspace.root)
    assert (
        missing.returncode == 2 and "No job 'nope'" in missing.stderr and "fix:" in missing.stderr
    )
    with pytest.raises(Exception, match="not running"):
        info = start_job(workspace, "generate", {"n": 1, "delay": 0})
        wait_until(lambda: not get_job(workspace.store, info.id).live)
        stop_job(workspace, info.id)


def test_a_stage_bug_fails_the_job_with_the_traceback_in_its_log(workspace, monkeypatch) -> None:
    monkeypatch.setenv("SDRL_STAGES", "label=tests.job_stages:iter_bug")
    root = workspace.root
    done = run_sdrl("label", cwd=root)
    assert done.returncode == 1 and "error: RuntimeError: a bug in the stage" in done.stderr
    shown = json.loads(run_sdrl("jobs", "show", "latest", "--json", cwd=root).stdout)
    assert shown["state"] == "failed" and shown["stage"] == "label"
    assert "sdrl jobs resume" in shown["hint"]
    logs = run_sdrl("jobs", "logs", shown["id"][:5], cwd=root)
    assert (
        logs.returncode == 0 and "Traceback" in logs.stdout and "a bug in the stage" in logs.stdout
    )

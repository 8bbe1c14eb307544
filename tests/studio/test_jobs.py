"""The studio as a client of jobs: a killed job shows as failed with its cause and resumes; quitting leaves jobs running.

Jobs run in real processes (supervisor and worker); the killing is real SIGKILL / SIGILL.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from engine.events import EventLog, Progress
from engine.jobs import get_job, signal_job
from studio.modals import ErrorModal
from tests.engine.test_probe import QUESTIONS, add_samples, configure
from tests.studio.test_pipeline import wait_for

SLOW_COUNT = {"SDRL_STAGES": "generate=tests.job_stages:iter_slow_count"}


def info_text(screen) -> str:  # type: ignore[no-untyped-def]
    return str(screen.query_one("#stage-info").render())


def progress_count(job) -> int:  # type: ignore[no-untyped-def]
    return sum(isinstance(e, Progress) for e in EventLog(job.events_path).read()[0])


@pytest.fixture
def kill_jobs_after(workspace):
    yield
    for row in workspace.store.query("SELECT id FROM jobs"):
        job = get_job(workspace.store, row["id"])
        if job.live:
            signal_job(job, signal.SIGKILL)


async def start_generate_job(app, pilot):
    """Start a generate job from the Pipeline screen and wait until it has made progress."""
    app.screen.action_run_stage("generate")
    job = app.screen.runner.job
    await wait_for(pilot, lambda: progress_count(job) > 0, tries=1200)
    return job


async def test_a_job_dying_by_sigill_is_reported_as_such(
    workspace, make_app, monkeypatch, kill_jobs_after
):
    monkeypatch.setenv("SDRL_STAGES", SLOW_COUNT["SDRL_STAGES"])
    app = make_app(workspace, "pipeline")
    async with app.run_test(size=(100, 30)) as pilot:
        pipeline = app.screen
        job = await start_generate_job(app, pilot)
        os.kill(get_job(workspace.store, job.id).pid, signal.SIGILL)
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorModal), tries=1200)
        assert isinstance(app.screen, ErrorModal)
        assert "illegal instruction (SIGILL)" in app.screen.error_title
        assert "smollm2-135m-instruct" in app.screen.error_title  # the model the job ran
        assert "rebuild llama.cpp" in app.screen.error_hint
        await pilot.press("escape")
        text = info_text(pipeline)
        assert "generate: failed" in text and "SIGILL" in text and "r resumes" in text
        assert app.is_running
    assert get_job(workspace.store, job.id).state == "failed"


async def test_quitting_mid_job_leaves_it_running_and_a_new_studio_shows_it_live(
    workspace, make_app, monkeypatch, kill_jobs_after
):
    monkeypatch.setenv("SDRL_STAGES", SLOW_COUNT["SDRL_STAGES"])
    app = make_app(workspace, "pipeline")
    async with app.run_test(size=(100, 30)) as pilot:
        pipeline = app.screen
        job = await start_generate_job(app, pilot)
        await pilot.press("ctrl+q")
    job = get_job(workspace.store, job.id)
    assert job.state == "running"
    os.kill(job.pid, 0)  # its worker still runs: raises if it is gone

    again = make_app(workspace, "pipeline")
    async with again.run_test(size=(100, 30)) as pilot:
        pipeline = again.screen
        await wait_for(pilot, lambda: "count: " in info_text(pipeline), tries=600)
        first = info_text(pipeline)
        done_before = int(first.split("count: ")[1].split("/")[0])
        await wait_for(
            pilot,
            lambda: int(info_text(pipeline).split("count: ")[1].split("/")[0]) > done_before,
            tries=600,
        )  # live: the count moves on
        assert again.screen.runner.job.id == job.id
        await pilot.press("s")  # stop it from the new studio
        await wait_for(pilot, lambda: "stopped" in info_text(pipeline), tries=1200)
    assert get_job(workspace.store, job.id).state == "stopped"


@pytest.mark.slow
async def test_score_job_killed_shows_failed_then_resumes_without_duplicates(
    workspace, make_app, kill_jobs_after
):
    configure(workspace, scoring={"max_tokens": 12, "batch_size": 1, "k": 2})
    add_samples(workspace, QUESTIONS * 2)  # six samples
    store = workspace.store
    app = make_app(workspace, "pipeline")
    async with app.run_test(size=(100, 30)) as pilot:
        pipeline = app.screen
        app.screen.action_run_stage("score")
        job = app.screen.runner.job
        await wait_for(pilot, lambda: store.scalar("SELECT COUNT(*) FROM scores") >= 1, tries=12000)
        os.kill(get_job(store, job.id).pid, signal.SIGKILL)
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorModal), tries=1200)
        assert "killed (SIGKILL)" in app.screen.error_title
        await pilot.press("escape")
        assert "score: failed" in info_text(pipeline) and app.is_running
        scored_before = store.scalar("SELECT COUNT(*) FROM scores")
        assert 1 <= scored_before < 6
        await pilot.press("r")  # resume
        resumed = app.screen.runner.job
        assert resumed.id != job.id and resumed.stage == "score"
        deadline = time.monotonic() + 900
        await wait_for(
            pilot,
            lambda: not get_job(store, resumed.id).live or time.monotonic() > deadline,
            tries=100000,
        )
        assert get_job(store, resumed.id).state == "finished"
    assert store.scalar("SELECT COUNT(*) FROM scores") == 6
    assert store.scalar("SELECT COUNT(*) FROM rollouts") == 12  # k = 2 each, none twice
    assert (
        store.scalar(
            "SELECT COUNT(*) FROM rollouts WHERE sample_id NOT IN (SELECT sample_id FROM scores)"
        )
        == 0
    )

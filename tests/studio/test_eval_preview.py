"""Eval screen (base vs trained, fixed and broken items) and Preview screen (streamed tokens, keep, discard)."""

from __future__ import annotations

from tests.studio.fake_stages import stages_env
from tests.studio.test_pipeline import wait_for


async def test_eval_compares_base_and_trained(populated, make_app):
    app = make_app(populated, "eval")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#eval-table")
        assert table.get_row_at(0) == ["gsm8k-mini", "50.0% (2/4)", "50.0% (2/4)", "+0.0 pts"]
        detail = str(app.screen.query_one("#eval-detail").render())
        assert "fixed 1" in detail and "broken 1" in detail


async def test_eval_never_pairs_evals_of_different_item_counts(populated, make_app):
    from tests.engine.test_eval import _add_eval

    newest = _add_eval(populated, "runs/x/adapter", 100, "gsm8k-mini")
    with populated.store.transaction() as conn:
        conn.execute("UPDATE evals SET model='gemma3-270m' WHERE id=?", (newest,))
    app = make_app(populated, "eval")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#eval-table")
        assert table.row_count == 2
        assert table.get_row_at(0) == ["gsm8k-mini", "50.0% (2/4)", "50.0% (2/4)", "+0.0 pts"]
        assert table.get_row_at(1) == ["gsm8k-mini", "-", "0.0% (0/100)", "-"]


async def test_eval_without_evaluations_says_how_to_get_them(workspace, make_app):
    app = make_app(workspace, "eval")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "sdrl eval" in str(app.screen.query_one("#eval-detail").render())


async def test_eval_shows_the_instructor_check_table(workspace, make_app):
    from engine.calibration import LabelCheck
    from engine.instructor_check import make_report, save_report

    app = make_app(workspace, "eval")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        assert "sdrl instructor check" in str(app.screen.query_one("#text-body").render())
        await pilot.press("escape")
        checks = [LabelCheck(1.0, True)] * 6 + [LabelCheck(0.5, False)] * 4
        save_report(workspace.store, 1, make_report("gsm8k-mini", 4, checks, 0, 0.8))
        await pilot.press("i")
        await pilot.pause()
        body = str(app.screen.query_one("#text-body").render())
        assert "gsm8k-mini" in body and "overall label accuracy: 60%" in body
        assert "generation.low_agreement = 0.75" in body  # 6 of 6 right from 0.75 up


def fake_keep(kept: list):
    def keep_preview(ctx, item, origin="manual"):
        kept.append((ctx.revision.id, item["input"]))
        return 1

    return keep_preview


async def preview_cards(app, pilot, k: int = 2) -> None:
    """Ask the Preview screen for `k` questions and wait until their cards have mounted."""
    await pilot.pause()
    app.screen.query_one("#preview-k").value = str(k)
    await pilot.press("g")
    status = app.screen.query_one("#preview-status")
    await wait_for(pilot, lambda: "previewed" in str(status.render()), tries=600)
    await pilot.pause()  # the cards of the last batch mount after it


async def test_preview_streams_then_keeps_and_discards(workspace, make_app, monkeypatch):
    kept: list = []
    monkeypatch.setenv("SDRL_STAGES", stages_env(preview="iter_preview"))  # in the preview worker
    monkeypatch.setattr("engine.stages.preview.keep_preview", fake_keep(kept))
    app = make_app(workspace, "preview")
    async with app.run_test(size=(100, 30)) as pilot:
        await preview_cards(app, pilot)
        cards = list(app.screen.cards.values())
        assert len(cards) == 2 and all(c.state == "done" for c in cards)
        assert cards[0].streamed == '{"input": "How many apples?", "output": "#### 4"}'
        assert "passage 0 about apples" in str(cards[0].query_one(".passage").render())
        await pilot.press("a")  # keep the first, move to the second
        await pilot.press("x")  # discard the second
        assert kept == [(workspace.store.latest_revision().id, "How many apples? (0)")]
        assert [c.state for c in cards] == ["kept", "discarded"]


async def test_preview_after_a_task_edit_uses_the_new_revision(workspace, make_app, monkeypatch):
    kept: list = []
    monkeypatch.setenv("SDRL_STAGES", stages_env(preview="iter_preview"))  # in the preview worker
    monkeypatch.setattr("engine.stages.preview.keep_preview", fake_keep(kept))
    app = make_app(workspace, "task")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.screen.query_one("#description").load_text("Apple counting problems.")
        await pilot.press("ctrl+s", "2")
        await pilot.pause()
        await pilot.press("g")
        await wait_for(
            pilot,
            lambda: len(app.screen.cards) == 3 and all(c.result for c in app.screen.cards.values()),
            tries=600,
        )
        await pilot.press("a")
        assert kept and kept[0][0] == 2  # the preview ran on revision 2, the edited definition


async def test_preview_cards_keep_what_they_say(workspace, make_app, monkeypatch):
    """Issue 12 item 6: a discarded card cannot be kept; states are shown in words; kept questions follow
    the task to a new revision."""
    # the fake preview runs in the preview worker; keep_preview is the real one: samples in the real store
    monkeypatch.setenv("SDRL_STAGES", stages_env(preview="iter_preview"))
    app = make_app(workspace, "preview")
    async with app.run_test(size=(100, 30)) as pilot:
        await preview_cards(app, pilot)
        first, second = app.screen.cards.values()
        await pilot.press("down", "x")  # discard the second
        assert second.state == "discarded" and "discarded" in str(second.badge.render())
        await pilot.press("up", "down", "a")  # try to keep the discarded one
        assert second.state == "discarded"
        assert any("can no longer be kept" in n.message for n in app._notifications)
        await pilot.press("up", "a")  # keep the first
        assert first.state == "kept"
        sample_id = workspace.store.scalar("SELECT id FROM samples WHERE origin='manual'")
        assert f"kept as sample #{sample_id} in revision 1" in str(first.badge.render())
        await pilot.press(
            "up", "x"
        )  # a kept card is in the pool: discarding says where to reject it
        assert first.state == "kept"

        await pilot.press("1")  # edit the task: a new revision
        await pilot.pause()
        app.screen.query_one("#description").load_text("Apple counting problems at the market.")
        await pilot.press("ctrl+s", "2")
        await pilot.pause()
        rows = workspace.store.query(
            "SELECT id, revision_id FROM samples WHERE origin='manual' ORDER BY id"
        )
        assert [r["revision_id"] for r in rows] == [1, 2]  # followed to revision 2
        assert f"#{rows[1]['id']} in revision 2" in str(first.badge.render())
        assert "followed the task from revision 1" in str(first.badge.render())


def test_benchmark_names_are_short():
    from studio.screens.eval import short_benchmark

    assert short_benchmark("/home/me/data/gsm8k/test.jsonl") == "test"
    assert short_benchmark("/data/gsm8k-mini.jsonl") == "gsm8k-mini"
    assert (
        short_benchmark("gsm8k") == "gsm8k"
        and short_benchmark("val:selection-3") == "val:selection-3"
    )


async def test_eval_lists_fixed_and_broken_items_with_short_names(populated, make_app):
    """Issue 12 item 9: per-item analysis with question, gold, base and adapter answers; short names."""
    with populated.store.transaction() as conn:
        conn.execute("UPDATE evals SET benchmark='/very/long/path/to/benchmarks/gsm8k-mini.jsonl'")
    app = make_app(populated, "eval")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#eval-table").get_row_at(0)[0] == "gsm8k-mini"
        items = app.screen.query_one("#eval-item-table")
        rows = [items.get_row_at(i) for i in range(items.row_count)]
        assert [(str(r[0]), r[1:5]) for r in rows] == [
            ("[green]fixed[/]", ["1", "3", "0", "3"]),
            ("[red]broken[/]", ["3", "5", "5", "0"]),
        ]
        assert "Question 1: 2 + 1?" in str(app.screen.query_one("#eval-item").render())
        items.focus()
        await pilot.press("down")
        shown = str(app.screen.query_one("#eval-item").render())
        assert "#3 broken · gold 5 · base 5 → trained 0" in shown and "Question 3: 2 + 3?" in shown


async def test_start_an_eval_from_the_eval_screen(populated, make_app, monkeypatch):
    """Issue 12 item 9: l starts an eval job (benchmark, limit, run); the table shows it when the job ends."""
    from studio.eval_form import EvalFormModal
    from tests.studio.fake_stages import stages_env

    monkeypatch.setenv("SDRL_STAGES", stages_env(eval="iter_eval_recording"))
    app = make_app(populated, "eval")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("l")
        assert isinstance(app.screen, EvalFormModal)
        form = app.screen
        form.query_one("#eval-limit").value = "-2"
        await pilot.press("enter")  # refused in the form, with the reason
        assert isinstance(app.screen, EvalFormModal)
        assert "limit" in str(form.query_one("#eval-form-errors").render())
        form.query_one("#eval-limit").value = "20"
        form.query_one("#eval-benchmark").focus()
        await pilot.press("enter")
        await pilot.pause()
        job = populated.store.query("SELECT * FROM jobs WHERE stage='eval'")[0]
        assert '"limit": 20' in job["options"] and '"benchmark": "gsm8k"' in job["options"]
        assert job["run_id"] == "20260101-000000-abcd"  # the newest finished run, preselected
        screen = app.screen
        await wait_for(pilot, lambda: not screen.check_job(job["id"]), tries=600)
        table = screen.query_one("#eval-table")
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert ["gsm8k", "50.0% (10/20)", "100.0% (20/20)", "+50.0 pts"] in rows

"""Samples screen: curation keys write decisions to the store at once; filter, search, sort, marks, edit, undo."""

from __future__ import annotations

from engine import queries
from studio.modals import ConfirmModal, EditSampleModal
from studio.widgets.virtual_table import VirtualTable


def newest_action(ws, sample_id: int) -> str | None:
    return ws.store.scalar(
        "SELECT action FROM decisions WHERE sample_id=? ORDER BY id DESC LIMIT 1", (sample_id,)
    )


async def test_accept_pin_reject_undo_write_the_store(populated, make_app):
    app = make_app(populated, "samples")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(VirtualTable)
        assert table.total == 60
        await pilot.press("a")
        assert newest_action(populated, 1) == "accept"
        await pilot.press("down", "p")
        assert newest_action(populated, 2) == "pin"
        await pilot.press("x")
        assert newest_action(populated, 2) == "reject"
        assert queries.sample_row(populated.store, 2).status == "rejected"
        await pilot.press("u")
        assert newest_action(populated, 2) == "pin"
        await pilot.pause(0.3)
        assert "pinned" in str(app.screen.query_one("#detail").render())


async def test_mark_several_and_reject_all_after_confirmation(populated, make_app):
    app = make_app(populated, "samples")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space", "space", "space", "x")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await pilot.pause()
        rejected = populated.store.query(
            "SELECT sample_id FROM decisions WHERE action='reject' ORDER BY sample_id"
        )
        assert [r[0] for r in rejected] == [1, 2, 3]
        assert app.screen.query_one(VirtualTable).marked == set()


async def test_cancelled_confirmation_writes_nothing(populated, make_app):
    app = make_app(populated, "samples")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space", "space", "x", "n")
        assert populated.store.scalar("SELECT COUNT(*) FROM decisions") == 0


async def test_edit_modal_records_new_question_and_answer(populated, make_app):
    app = make_app(populated, "samples")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("e")
        assert isinstance(app.screen, EditSampleModal)
        app.screen.query_one("#edit-answer").value = "99"
        await pilot.press("ctrl+s")
        await pilot.pause()
        row = queries.sample_row(populated.store, 1)
        assert (row.label, row.status) == ("99", "edited")
        assert "99" in str(app.screen.query_one(VirtualTable).render_line(0).text)


async def test_filter_search_and_sort(populated, make_app):
    app = make_app(populated, "samples")
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one(VirtualTable)
        await pilot.press("a", "f", "f")  # all -> accepted -> pinned
        assert app.screen.query_state.status == "pinned" and table.total == 0
        await pilot.press(*["f"] * 11)  # ... harder (an origin)
        assert app.screen.query_state.status == "harder" and table.total == 15
        await pilot.press(*["f"] * 4)  # wraps around to accepted
        assert app.screen.query_state.status == "accepted" and table.total == 1
        app.screen._requery(status="all")
        await pilot.press("slash", *"item 59", "enter")
        assert table.total == 1 and table.current.id == 60
        app.screen._requery(search="")
        await pilot.press(
            "s", "s", "s", "s", "s"
        )  # id -> question -> label -> agreement -> origin -> pass_rate
        assert app.screen.query_state.sort == "pass_rate"
        await pilot.press("r")
        assert table.current.pass_rate == 1.0
        assert "pass_rate" in str(app.screen.query_one("#sample-info").render())

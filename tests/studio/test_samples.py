"""Samples screen: curation keys write decisions to the store at once; filter, search, sort, marks, edit, undo."""

from __future__ import annotations

from engine import queries
from studio.modals import ConfirmModal, EditSampleModal, PickModal
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
        await pilot.press("a", "f")  # the filter opens a picker
        assert isinstance(app.screen, PickModal)
        await pilot.press("down", "down", "enter")  # all -> accepted -> pinned
        assert app.screen.query_state.status == "pinned" and table.total == 0
        await pilot.press("f", "end", "up", "up", "enter")  # ... harder (an origin)
        assert app.screen.query_state.status == "harder" and table.total == 15
        await pilot.press("f", "home", "down", "enter")
        assert app.screen.query_state.status == "accepted" and table.total == 1
        await pilot.press("f", "escape")  # escape keeps the filter
        assert app.screen.query_state.status == "accepted"
        app.screen._requery(status="all")
        await pilot.press("slash", *"item 59", "enter")
        assert table.total == 1 and table.current.id == 60
        app.screen._requery(search="")
        await pilot.press(
            "o", "o", "o", "o", "o"
        )  # id -> question -> label -> agreement -> origin -> pass_rate
        assert app.screen.query_state.sort == "pass_rate"
        await pilot.press("O")
        assert table.current.pass_rate == 1.0
        assert "pass_rate" in str(app.screen.query_one("#sample-info").render())


async def test_undo_takes_back_the_last_bulk_action_wherever_the_cursor_is(populated, make_app):
    """Issue 12 item 7: u undoes the last action (a bulk one as a whole), not the decision under the cursor."""
    app = make_app(populated, "samples")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space", "space", "space", "a")  # accept 1, 2, 3
        assert [newest_action(populated, i) for i in (1, 2, 3)] == ["accept"] * 3
        await pilot.press("down", "down", "down", "down", "down")  # the cursor elsewhere
        await pilot.press("u")
        assert [newest_action(populated, i) for i in (1, 2, 3)] == [None] * 3
        await pilot.press("u")  # nothing left from this session: nothing else is touched
        assert populated.store.scalar("SELECT COUNT(*) FROM decisions") == 0


async def test_marked_rows_carry_a_symbol_and_edited_shows_in_status(populated, make_app):
    app = make_app(populated, "samples")
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.screen.query_one(VirtualTable)
        await pilot.press("space")
        assert table.render_line(0).text.startswith("●")
        assert not table.render_line(1).text.startswith("●")
        queries.decide(populated.store, [2], "edit", question="Q?", answer="5")
        queries.decide(populated.store, [2], "accept")
        table.reload()
        await pilot.pause()
        assert "accepted, edited" in table.render_line(1).text
        app.screen._requery(status="edited")  # an accepted edit is still an edit
        assert table.total == 1 and table.current.id == 2


async def test_escape_clears_the_search(populated, make_app):
    app = make_app(populated, "samples")
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one(VirtualTable)
        await pilot.press("slash", *"item 59", "enter")
        assert table.total == 1
        await pilot.press("escape")
        assert app.screen.query_state.search == "" and table.total == 60
        assert app.screen.query_one("#search").value == ""
        await pilot.press("slash", *"item 5")
        await pilot.press("escape")  # in the field, before enter
        assert app.screen.query_one("#search").value == "" and table.has_focus


def test_numeric_labels_sort_as_numbers(populated):
    rid = populated.store.latest_revision().id
    ids = queries.sample_ids(populated.store, rid, queries.SampleQuery(sort="label"))
    labels = [int(r.label) for r in queries.sample_rows(populated.store, rid, ids)]
    assert labels == sorted(labels) and labels[0] == 6 and labels[-1] == 30  # not "12" < "6"
    queries.decide(populated.store, [1], "edit", question="Q?", answer="many")
    ids = queries.sample_ids(populated.store, rid, queries.SampleQuery(sort="label"))
    assert ids[-1] == 1  # text after numbers


def test_vote_counts_group_answers_and_put_the_winner_first():
    from studio.widgets.sample_detail import vote_counts

    assert vote_counts(["7", "12", "12", None, "12", "7", None]) == [("12", 3), ("7", 2), (None, 2)]
    assert vote_counts(["3", "4"]) == [("3", 1), ("4", 1)]  # a tie: the first seen leads


async def test_detail_shows_vote_counts_every_rollout_and_the_edit_history(populated, make_app):
    """Issue 12 item 8: distinct votes with counts and the winner, every rollout expandable, edit history."""
    from textual.widgets import Collapsible

    queries.decide(
        populated.store, [1], "edit", question="How many coins for 2 apples?", answer="6"
    )
    queries.decide(populated.store, [1], "accept")
    app = make_app(populated, "samples")
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = str(app.screen.query_one("#detail").render())
        assert "votes 5: 6 ×4 (winner) · 7 ×1" in text
        assert "0/8 correct" in text
        assert (
            "history" in text and "edit label → 6" in text and "question → How many coins" in text
        )
        assert "accept" in text.split("history")[1]
        rollouts = list(app.screen.query(Collapsible))
        assert len(rollouts) == 8 and all(r.collapsed for r in rollouts)
        assert "rollout 0 ✗ → 6" in str(rollouts[0].title)
        rollouts[3].collapsed = False  # expand one: its full text is there
        await pilot.pause()
        assert "She pays 6. #### 6" in str(rollouts[3].query_one(".rollout-text").render())

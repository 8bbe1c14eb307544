"""Task screen: saving a valid edit makes a revision; an invalid one shows the ConfigError and saves nothing; diffs."""

from __future__ import annotations

import re

from engine.config import load_task
from studio.modals import ConfirmModal, DiffModal, ErrorModal


async def test_save_creates_a_revision(workspace, make_app):
    before = len(workspace.store.revisions())
    app = make_app(workspace, "task")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.screen.query_one("#description").load_text(
            "Word problems about trains and buses, two to four steps."
        )
        app.screen.query_one("#message").value = "trains"
        await pilot.press("ctrl+s")
        await pilot.pause()
        revisions = workspace.store.revisions()
        assert len(revisions) == before + 1
        assert revisions[-1].message == "trains"
        assert "trains and buses" in revisions[-1].content
        assert load_task(workspace.task_file).description.startswith("Word problems about trains")
        assert "saved revision" in str(app.screen.query_one("#task-status").render())
        await pilot.press("ctrl+s")  # nothing changed since: no new revision
        assert len(workspace.store.revisions()) == before + 1


async def test_invalid_definition_shows_the_error_and_saves_nothing(workspace, make_app):
    text_before = workspace.task_file.read_text()
    app = make_app(workspace, "task")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.screen.query_one("#output_format").load_text("")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ErrorModal)
        assert "output_format" in app.screen.error_title
        assert workspace.task_file.read_text() == text_before
        assert len(workspace.store.revisions()) == 1


async def test_bad_demo_toml_is_a_config_error(workspace, make_app):
    app = make_app(workspace, "task")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.screen.query_one("#demos").load_text("[[demos]]\ninput = unterminated")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ErrorModal) and "demos" in app.screen.error_title
        assert len(workspace.store.revisions()) == 1


async def test_history_diff_side_by_side(workspace, make_app):
    app = make_app(workspace, "task")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.screen.query_one("#input_format").load_text("A short word problem about a bakery.")
        await pilot.press("ctrl+s")
        await pilot.pause()
        app.screen.query_one("#task-tabs").active = "tab-history"
        app.screen.query_one("#revisions").focus()
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DiffModal)
        left, right = app.screen.texts
        assert "bakery" in right.plain and "bakery" not in left.plain
        assert any("red" in str(span.style) for span in left.spans)


async def test_save_keeps_the_comments_in_task_toml(workspace, make_app):
    """Issue 12 item 5: saving from the studio no longer deletes every comment."""
    comments = [
        line
        for line in workspace.task_file.read_text().splitlines()
        if line.startswith("#") and not line.startswith("####")
    ]
    assert comments
    app = make_app(workspace, "task")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.screen.query_one("#description").load_text("Word problems about trains.")
        await pilot.press("ctrl+s")
        await pilot.pause()
    text = workspace.task_file.read_text()
    assert all(line in text for line in comments)
    assert load_task(workspace.task_file).description == "Word problems about trains."


async def test_broken_file_opens_on_task_with_errors_and_can_be_fixed_in_the_app(
    workspace, make_app
):
    from studio.app import opening_screen

    good = workspace.task_file.read_text()
    workspace.task_file.write_text(re.sub(r"group_size = \d+", "group_size = 1", good))
    assert opening_screen(workspace) == "task"
    app = make_app(workspace, "task")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ErrorModal) and "group_size" in app.screen.error_title
        await pilot.press("escape")
        screen = app.screen
        assert "group_size" in str(screen.query_one("#task-problems").render())
        assert screen.query_one("#task-tabs").active == "tab-file"
        raw = screen.query_one("#raw")
        raw.load_text(raw.text.replace("group_size = 1", "group_size = 2"))  # fixed in the app
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, ErrorModal)
        assert load_task(workspace.task_file).training.group_size == 2
        assert workspace.store.latest_revision().content == workspace.task_file.read_text()
        assert not screen.query_one("#task-problems").display


async def test_ctrl_r_on_a_broken_file_shows_the_errors(workspace, make_app):
    app = make_app(workspace, "task")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        workspace.task_file.write_text(workspace.task_file.read_text().replace("k = 8", "k = 0"))
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, ErrorModal) and "scoring.k" in app.screen.error_title


async def test_saving_a_format_the_checker_cannot_read_warns(workspace, make_app):
    app = make_app(workspace, "task")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.screen.query_one("#answer_type").value = "multiple_choice"
        await pilot.press("ctrl+s")
        await pilot.pause()
        panel = str(app.screen.query_one("#task-problems").render())
        assert "warning:" in panel and "multiple_choice checker" in panel
        assert any("warnings" in (n.title or "") for n in app._notifications)


async def test_restore_an_old_revision(workspace, make_app):
    original = workspace.task_file.read_text()
    app = make_app(workspace, "task")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.screen.query_one("#input_format").load_text("A short word problem about a bakery.")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "bakery" in workspace.task_file.read_text()
        app.screen.query_one("#task-tabs").active = "tab-history"
        table = app.screen.query_one("#revisions")
        table.focus()
        table.move_cursor(row=1)  # newest first: row 1 is revision 1
        await pilot.pause()
        await pilot.press("v")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await pilot.pause()
        assert workspace.task_file.read_text() == original
        latest = workspace.store.latest_revision()
        assert latest.id == 3 and latest.message == "restored revision 1"
        assert "bakery" not in app.screen.query_one("#input_format").text

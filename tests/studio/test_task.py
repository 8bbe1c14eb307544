"""Task screen: saving a valid edit makes a revision; an invalid one shows the ConfigError and saves nothing; diffs."""

from __future__ import annotations

from engine.config import load_task
from studio.modals import DiffModal, ErrorModal


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

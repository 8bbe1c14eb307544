"""The Preview screen over the real instructor (bundled SmolLM2 via llama.cpp): tokens stream into a card."""

from __future__ import annotations

import pytest

from tests.studio.test_pipeline import wait_for

pytestmark = pytest.mark.slow


async def test_real_preview_streams_a_question(workspace, make_app):
    import tomlkit

    doc = tomlkit.parse(workspace.task_file.read_text())
    # a short reply keeps the test quick; a cut-off JSON reply is a counted parse failure, which is fine here
    doc["generation"]["max_tokens"] = 48  # type: ignore[index]
    workspace.task_file.write_text(tomlkit.dumps(doc))
    app = make_app(workspace, "preview")
    async with app.run_test(size=(100, 30)) as pilot:
        app.screen.query_one("#preview-k").value = "1"
        await pilot.press("g")
        status = app.screen.query_one("#preview-status")
        await wait_for(
            pilot,
            lambda: "previewed" in str(status.render()) or app.screen.query("ErrorModal"),
            tries=3000,
        )
        assert not app.screen.query("ErrorModal")
        cards = list(app.screen.cards.values())
        assert len(cards) == 1 and cards[0].streamed  # tokens arrived
        assert cards[0].state in (
            "done",
            "failed",
        )  # a tiny model may write unparseable JSON: a counted failure
        if cards[0].state == "done":
            await pilot.press("a")
            assert workspace.store.scalar("SELECT COUNT(*) FROM samples WHERE origin='manual'") == 1

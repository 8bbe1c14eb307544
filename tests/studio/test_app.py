"""The app as a whole: number keys, F1, the command palette, fast start without torch, quitting leaves runs alone."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from studio import SCREENS
from tests.conftest import REPO
from tests.studio.test_pipeline import wait_for


async def test_number_keys_reach_every_screen(populated, make_app):
    app = make_app(populated, "samples")
    async with app.run_test(size=(80, 24)) as pilot:
        for key, name in enumerate(SCREENS, start=1):
            await pilot.press(str(key))
            await pilot.pause()
            assert app.current_mode == name and name == app.screen.NAME


async def test_f1_lists_the_keys(populated, make_app):
    app = make_app(populated, "samples")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert app.screen.query("HelpPanel")
        await pilot.press("f1")
        await pilot.pause()
        assert not app.screen.query("HelpPanel")


async def test_palette_offers_every_screen_action(populated, make_app):
    app = make_app(populated, "samples")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {
            "Accept",
            "Pin",
            "Reject",
            "Edit",
            "Undo",
            "Mark",
            "Filter",
            "Sort",
            "Search",
        } <= titles
        assert {f"Go to {name.title()}" for name in SCREENS} <= titles
        assert "Theme" in titles


async def test_palette_command_runs_the_action(populated, make_app):
    app = make_app(populated, "samples")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Accept")
        from textual.command import CommandList

        await wait_for(
            pilot, lambda: app.screen.query_one(CommandList).option_count > 0
        )  # searched in a worker
        await pilot.press("enter")
        await pilot.pause()
        assert populated.store.scalar("SELECT action FROM decisions WHERE sample_id=1") == "accept"


async def test_quitting_never_stops_a_run(workspace, make_app, fake_worker):
    from tests.studio.sample_data import add_run

    folder = add_run(workspace, "r1", status="running")
    with workspace.store.transaction() as conn:
        conn.execute("UPDATE runs SET pid=? WHERE id='r1'", (fake_worker,))
    app = make_app(workspace, "train")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter", "ctrl+q")
    assert not (folder / "stop").exists()
    assert workspace.store.scalar("SELECT status FROM runs WHERE id='r1'") == "running"
    import os

    os.kill(fake_worker, 0)  # still alive: raises if the process is gone


def test_import_and_first_paint_do_not_import_torch(tmp_path):
    script = textwrap.dedent(f"""
        import asyncio, sys
        import studio, studio.app
        assert "torch" not in sys.modules, "import studio pulled in torch"
        from engine.workspace import init_workspace
        from studio.app import StudioApp
        ws = init_workspace({str(tmp_path / "ws")!r}, "demo")
        async def main():
            for start in {SCREENS!r}:
                app = StudioApp(ws, start=start)
                async with app.run_test(size=(80, 24)) as pilot:
                    await pilot.pause()
        asyncio.run(main())
        heavy = sorted(m for m in ("torch", "transformers", "trl", "peft", "llama_cpp", "vllm") if m in sys.modules)
        print("HEAVY", heavy)
    """)
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "HEAVY []" in out.stdout


def test_engine_queries_never_import_textual():
    out = subprocess.run(
        [sys.executable, "-c", "import sys, engine.queries; print('textual' in sys.modules)"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.strip() == "False", out.stderr


def _screen_classes():
    import importlib

    from studio import SCREENS

    return [importlib.import_module(f"studio.screens.{name}").SCREEN for name in SCREENS]


def test_one_meaning_per_key_on_every_screen():
    """Issue 12 item 7: s is not Stop here and Sort there; x is not Discard, Reject and Stop run."""
    from studio.app import StudioApp
    from studio.widgets.virtual_table import VirtualTable

    meanings: dict[str, set[str]] = {}
    for cls in [*_screen_classes(), StudioApp, VirtualTable]:
        for binding in cls.BINDINGS:
            for key in binding.key.split(","):
                meanings.setdefault(key, set()).add(binding.description)
    clashes = {key: names for key, names in meanings.items() if len(names) > 1}
    assert clashes == {}


async def test_palette_lists_actions_and_runs_them(populated, make_app):
    """Issue 12 item 7: the palette offers actions ("Run score", "Launch training", "Export dataset"), not only keys."""
    app = make_app(populated, "task")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        for action in (
            "Run score",
            "Run select",
            "Launch training",
            "Export dataset",
            "Start eval",
        ):
            assert action in commands
        await commands["Run select"].callback()  # goes to Pipeline and runs the real select stage
        assert app.current_mode == "pipeline"
        for _ in range(200):
            if populated.store.scalar("SELECT COUNT(*) FROM selections"):
                break
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        await commands["Export dataset"].callback()
        await app.workers.wait_for_complete()
        await pilot.pause()
        selected = populated.store.scalar("SELECT COUNT(*) FROM selection_items")
        exported = list((populated.root / "exports").glob("dataset-rev*.jsonl"))
        assert len(exported) == 1 and exported[0].read_text().count("\n") == selected > 0
        assert any(f"wrote {selected} rows" in n.message for n in app._notifications)


def test_a_workspace_with_samples_opens_on_pipeline(populated):
    from studio.app import opening_screen

    assert opening_screen(populated) == "pipeline"


def test_fresh_workspace_opens_on_task(make_workspace):
    from studio.app import opening_screen

    assert opening_screen(make_workspace("demo", "fresh")) == "task"

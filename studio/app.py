"""The studio application: opens a workspace and shows where each stage stands."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

from engine.status import workspace_status
from engine.workspace import Workspace


class StudioApp(App[None]):
    TITLE = "sdrl studio"
    BINDINGS = [("q", "quit", "Quit"), ("r", "refresh", "Refresh")]

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = str(self.workspace.root)
        self.action_refresh()

    def action_refresh(self) -> None:
        status = workspace_status(self.workspace)
        lines = [f"task {status['task']}  revision {status['revision']}"]
        for stage, counts in status["stages"].items():
            lines.append(f"{stage:<10} " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        self.query_one("#status", Static).update("\n".join(lines))

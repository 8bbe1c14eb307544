"""Preview: generate K questions now and watch them being written, each beside its grounding passage; keep or discard."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Static

from engine.errors import SdrlError
from engine.events import ItemDone, ItemFailed, Progress, StageFinished, Token
from studio.preview_client import PreviewClient
from studio.screens.base import StudioScreen, reports_errors
from studio.text import shown


class PreviewCard(Vertical):
    """One previewed sample: the streamed text (question and answer) and its passage."""

    def __init__(self, item_id: Any) -> None:
        super().__init__()
        self.item_id = item_id
        self.streamed = ""
        self.result: dict[str, Any] | None = None
        self.state = "writing"
        self.kept_as: tuple[int, int] | None = None
        """(sample id, revision) of the pool sample this card was kept as."""
        # made here, not in compose: tokens can arrive before the card has mounted its children
        self.qa = Static("[dim]writing…[/]", classes="qa")
        self.passage = Static("", classes="passage")
        self.badge = Static("", classes="card-state")
        self.badge.display = False

    def compose(self) -> ComposeResult:
        yield self.badge
        with Horizontal():
            yield self.qa
            yield self.passage

    def add_text(self, text: str) -> None:
        self.streamed += text
        self.qa.update(shown(self.streamed))

    def finish(self, detail: dict[str, Any]) -> None:
        self.result = detail
        self.state = "done"
        self.qa.update(
            f"[b]Q[/] {shown(str(detail.get('input', '')))}\n[b]A[/] {shown(str(detail.get('output', '')))}"
        )
        self.passage.update(shown(str(detail.get("passage", ""))[:500]))

    def fail(self, reason: str) -> None:
        self.state = "failed"
        self.qa.update(f"[red]failed:[/] {shown(reason)}\n[dim]{shown(self.streamed[-300:])}[/]")

    def mark(self, state: str, note: str = "") -> None:
        """Kept or discarded, shown in words on the card (not only by its border)."""
        self.state = state
        self.set_class(state == "kept", "-kept")
        self.set_class(state == "discarded", "-discarded")
        if state == "kept" and self.kept_as is not None:
            sample_id, revision = self.kept_as
            text = f"[green b]✓ kept[/] as sample #{sample_id} in revision {revision}"
        elif state == "discarded":
            text = "[red b]✗ discarded[/] [dim](not in the pool; it can no longer be kept)[/]"
        else:
            text = ""
        self.badge.update(text + (f" [dim]{note}[/]" if note else ""))
        self.badge.display = bool(text)


class PreviewScreen(StudioScreen):
    NAME = "preview"
    AUTO_FOCUS = "#previews"
    BINDINGS = [
        Binding("g", "generate", "Generate"),
        Binding("s", "stop", "Stop"),
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("a", "keep", "Accept"),
        Binding("x", "discard", "Reject"),
        Binding("K", "edit_k", "Count"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.worker: PreviewClient | None = None
        self.cards: dict[Any, PreviewCard] = {}
        self.current = 0

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="preview-bar"):
            yield Input("3", id="preview-k", type="integer", compact=True)
            yield Static(
                "g generates K questions from the instructor with the current task",
                id="preview-status",
            )
        yield VerticalScroll(id="previews")

    def on_mount(self) -> None:
        self.worker = PreviewClient(self.workspace.root, self._engine())
        self.worker.start()  # warm up: imports now, so the first g only loads the model
        self.set_interval(0.1, self.drain)

    def _engine(self) -> str:
        from engine.jobs.stages import native_engine

        try:
            return native_engine("preview", self.workspace.task())
        except SdrlError:
            return "llama.cpp"

    def on_unmount(self) -> None:
        if self.worker is not None:
            self.worker.close()

    def close_worker(self) -> None:
        """Kill the preview worker at once (quitting the studio never waits for a model)."""
        if self.worker is not None:
            self.worker.close()

    def action_edit_k(self) -> None:
        self.query_one("#preview-k", Input).focus()

    def on_input_submitted(self) -> None:
        self.query_one("#previews").focus()

    @reports_errors
    def action_generate(self) -> None:
        assert self.worker is not None  # started on mount
        if self.worker.busy:
            self.notify("a preview is still being written; s stops it", severity="warning")
            return
        try:
            k = max(1, int(self.query_one("#preview-k", Input).value or 3))
        except ValueError:
            k = 3
        self.query_one("#previews", VerticalScroll).remove_children()
        self.cards.clear()
        self.current = 0
        self.worker.request(k)  # the model runs in the worker process, never in the studio
        self.query_one("#preview-status", Static).update(f"writing {k} question{'s' * (k > 1)}…")

    def action_stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()

    def drain(self) -> None:
        if self.worker is None:
            return
        items = self.worker.drain()
        errors = [i for i in items if isinstance(i, dict) and i["type"] == "Error"]
        events = [i for i in items if not isinstance(i, dict)]
        if events:
            self.on_preview_events(events)
        for error in errors:
            self.query_one("#preview-status", Static).update(
                f"[red]preview failed:[/] {shown(error['title'])} · g tries again"
            )
            self.studio.show_error_text(error["title"], error["hint"])

    def _card(self, item_id: Any) -> PreviewCard:
        card = self.cards.get(item_id)
        if card is None:
            card = self.cards[item_id] = PreviewCard(item_id)
            self.query_one("#previews", VerticalScroll).mount(card)
            self._highlight()
        return card

    def on_preview_events(self, events: list[Any]) -> None:
        # tokens of one drain are joined per item: one repaint per card per tick, however fast the model
        pending: dict[Any, list[str]] = {}
        for event in events:
            if event.stage != "preview":  # the corpus is indexed first on a fresh workspace
                if isinstance(event, Progress):
                    self.query_one("#preview-status", Static).update(
                        f"{event.stage}: {event.done}/{event.total or '?'} {event.unit} (first run prepares the corpus)"
                    )
                continue
            if isinstance(event, Token):
                pending.setdefault(event.item_id, []).append(event.text)
            elif isinstance(event, ItemDone | ItemFailed):
                card = self._card(event.item_id)
                if event.item_id in pending:
                    card.add_text("".join(pending.pop(event.item_id)))
                if isinstance(event, ItemDone):
                    card.finish(event.detail)
                else:
                    card.fail(event.reason)
            elif isinstance(event, StageFinished):
                done = sum(c.state == "done" for c in self.cards.values())
                self.query_one("#preview-status", Static).update(
                    f"{done} previewed · a keeps in the pool, x discards"
                )
        for item_id, parts in pending.items():
            self._card(item_id).add_text("".join(parts))

    def _ordered(self) -> list[PreviewCard]:
        return list(self.cards.values())

    def _highlight(self) -> None:
        cards = self._ordered()
        for i, card in enumerate(cards):
            card.set_class(i == self.current, "-current")
        if cards:
            cards[min(self.current, len(cards) - 1)].scroll_visible()

    def action_move(self, delta: int) -> None:
        if self.cards:
            self.current = max(0, min(len(self.cards) - 1, self.current + delta))
            self._highlight()

    @reports_errors
    def action_keep(self) -> None:
        cards = self._ordered()
        if not cards:
            return
        card = cards[self.current]
        if card.state == "discarded":
            self.notify("this card was discarded; it can no longer be kept", severity="warning")
            return
        if card.result is None or card.state == "kept":
            return
        from engine.stages import StageContext
        from engine.stages.preview import keep_preview

        ctx = StageContext.open(self.workspace)
        card.kept_as = (keep_preview(ctx, card.result), ctx.revision.id)
        card.mark("kept")
        self.notify(f"kept in the pool as sample #{card.kept_as[0]}", timeout=2)
        self.action_move(1)

    def action_discard(self) -> None:
        cards = self._ordered()
        if not cards:
            return
        card = cards[self.current]
        if card.state == "kept":
            self.notify(
                "already in the pool: reject it on the Samples screen (3) instead",
                severity="warning",
            )
            return
        card.mark("discarded")
        self.action_move(1)

    def on_screen_resume(self) -> None:
        self.follow_kept()

    @reports_errors
    def follow_kept(self) -> None:
        """Kept questions follow an edited task to its new revision, so they stay in the pool the stages see."""
        kept = [
            (c, c.kept_as[1], c.result)
            for c in self._ordered()
            if c.state == "kept" and c.kept_as and c.result
        ]
        if not kept:
            return
        from engine.stages import StageContext
        from engine.stages.preview import keep_preview

        ctx = StageContext.open(self.workspace)  # records an edited task.toml as a new revision
        moved = 0
        for card, old_revision, result in kept:
            if old_revision != ctx.revision.id:
                card.kept_as = (keep_preview(ctx, result), ctx.revision.id)
                card.mark("kept", f"(followed the task from revision {old_revision})")
                moved += 1
        if moved:
            self.notify(
                f"{moved} kept question{'s' * (moved > 1)} followed the task to revision {ctx.revision.id}",
                timeout=4,
            )


SCREEN = PreviewScreen

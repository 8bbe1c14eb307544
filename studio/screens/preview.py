"""Preview: generate K questions now and watch them being written, each beside its grounding passage; keep or discard."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Static

from engine.events import ItemDone, ItemFailed, Progress, StageFinished, Token
from studio.engine_api import missing_notice, optional
from studio.runner import StageRunner
from studio.screens.base import StudioScreen, reports_errors
from studio.text import shown

PREVIEW = ("engine.stages.preview", "iter_preview")
KEEP = ("engine.stages.preview", "keep_preview")


class PreviewCard(Vertical):
    """One previewed sample: the streamed text (question and answer) and its passage."""

    def __init__(self, item_id: Any) -> None:
        super().__init__()
        self.item_id = item_id
        self.streamed = ""
        self.result: dict[str, Any] | None = None
        self.state = "writing"
        # made here, not in compose: tokens can arrive before the card has mounted its children
        self.qa = Static("[dim]writing…[/]", classes="qa")
        self.passage = Static("", classes="passage")

    def compose(self) -> ComposeResult:
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

    def mark(self, state: str) -> None:
        self.state = state
        self.set_class(state == "kept", "-kept")
        self.set_class(state == "discarded", "-discarded")


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
        self.runner = StageRunner(self, self.on_preview_events, interval=0.1)
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
        self.runner.attach()
        if optional(*PREVIEW) is None:
            self.query_one("#preview-status", Static).update(
                f"[yellow]{missing_notice(*PREVIEW)}[/]"
            )

    def action_edit_k(self) -> None:
        self.query_one("#preview-k", Input).focus()

    def on_input_submitted(self) -> None:
        self.query_one("#previews").focus()

    @reports_errors
    def action_generate(self) -> None:
        fn = optional(*PREVIEW)
        if fn is None:
            self.notify(missing_notice(*PREVIEW), title="not available", severity="warning")
            return
        try:
            k = max(1, int(self.query_one("#preview-k", Input).value or 3))
        except ValueError:
            k = 3
        previews = self.query_one("#previews", VerticalScroll)
        previews.remove_children()
        self.cards.clear()
        self.current = 0
        root = self.workspace.root

        def events(should_stop: Any) -> Any:
            from engine.stages import StageContext
            from engine.workspace import Workspace

            workspace = Workspace(
                root
            )  # its own connection: the UI thread keeps reading through the other
            try:
                # opening the context records an edited task.toml as a revision first: a preview shows its effect
                yield from fn(StageContext.open(workspace, should_stop), k)
            finally:
                workspace.close()

        if self.runner.start("preview", events):
            self.query_one("#preview-status", Static).update(
                f"writing {k} question{'s' * (k > 1)}…"
            )

    def action_stop(self) -> None:
        self.runner.stop()

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
        if card.result is None or card.state == "kept":
            return
        keep = optional(*KEEP)
        if keep is None:
            self.notify(missing_notice(*KEEP), severity="warning")
            return
        from engine.stages import StageContext

        keep(StageContext.open(self.workspace), card.result)
        card.mark("kept")
        self.notify("kept in the pool", timeout=2)
        self.action_move(1)

    def action_discard(self) -> None:
        cards = self._ordered()
        if cards:
            cards[self.current].mark("discarded")
            self.action_move(1)


SCREEN = PreviewScreen

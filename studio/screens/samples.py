"""Samples: the whole pool in a virtual table; filter, sort, search, curate (accept, pin, reject, edit, undo)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Input, Static

from engine import queries
from engine.queries import SampleQuery, SampleRow
from studio.modals import ConfirmModal, EditSampleModal, PickModal
from studio.screens.base import StudioScreen, reports_errors
from studio.widgets.sample_detail import SampleDetailPane
from studio.widgets.virtual_table import Column, TableHeader, VirtualTable

STATUS_STYLES = {
    "accepted": "green",
    "pinned": "bold cyan",
    "rejected": "red",
    "edited": "yellow",
    "unlabelable": "dim",
    "duplicate": "dim",
    "contaminated": "magenta",
    "pending": "dim",
}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


COLUMNS = [
    Column("id", "id", 6),
    Column("question", "question"),
    Column("label", "label", 9, lambda v: v or "-"),
    Column("agreement", "agr", 4, _pct, lambda v: "red" if v is not None and v < 0.5 else ""),
    Column("origin", "origin", 7),
    Column("pass_rate", "pass", 4, _pct),
    Column(
        "status",
        "status",
        16,
        str,
        lambda v: STATUS_STYLES.get(v.split(",")[0], ""),
        get=lambda row: (
            f"{row.status}, edited" if row.edited and row.status != "edited" else row.status
        ),
    ),
]
FILTER_HELP = {
    "all": "every sample",
    "accepted": "accepted by you",
    "pinned": "pinned: always selected",
    "rejected": "rejected by you",
    "edited": "question or label edited",
    "labelled": "labelled by majority vote",
    "pending": "not labelled yet",
    "unlabelable": "no majority answer",
    "duplicate": "near-duplicate of another",
    "contaminated": "overlaps a benchmark",
    "doubtful": "low vote agreement",
    "unscored": "no pass rate yet",
    "initial": "origin: first generation",
    "harder": "origin: made harder",
    "easier": "origin: made easier",
    "manual": "origin: kept from a preview",
}


class SamplesScreen(StudioScreen):
    NAME = "samples"
    AUTO_FOCUS = "#samples"
    BINDINGS = [
        Binding("a", "decide('accept')", "Accept"),
        Binding("p", "decide('pin')", "Pin"),
        Binding("x", "decide('reject')", "Reject"),
        Binding("delete", "decide('clear')", "Clear", show=False),
        Binding("e", "edit", "Edit"),
        Binding("u", "undo", "Undo"),
        Binding("space", "mark", "Mark", key_display="␣"),
        Binding("f", "pick_filter", "Filter"),
        Binding("o", "cycle_sort", "Sort"),
        Binding("O", "reverse", "Reverse", show=False),
        Binding("slash", "search", "Search"),
        Binding("escape", "clear_search", "Back", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.query_state = SampleQuery()
        self._detail_timer: Timer | None = None
        self._ids: list[int] | None = None
        self.undo_stack: list[tuple[str, list[int]]] = []
        """(what was done, the samples it touched) for each curation of this session, newest last."""

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="sample-bar"):
            yield Input(placeholder="/ search question or label", id="search")
            yield Static(id="sample-info")
        header = TableHeader(id="sample-header")
        yield header
        yield VirtualTable(COLUMNS, self._fetch, self._count, header=header, id="samples")
        yield SampleDetailPane(id="sample-detail")

    def on_mount(self) -> None:
        self.query_state = SampleQuery(low_agreement=self._low_agreement())
        self.query_one(VirtualTable).focus()
        self._update_info()

    def on_screen_resume(self) -> None:
        self.table.reload()

    def _low_agreement(self) -> float:
        try:
            return self.workspace.task().generation.low_agreement
        except Exception:  # noqa: BLE001 - an invalid task.toml must not stop browsing; the Task screen reports it
            return 0.5

    @property
    def table(self) -> VirtualTable:
        return self.query_one(VirtualTable)

    def _fetch(self, offset: int, limit: int) -> list[SampleRow]:
        rid = self.studio.revision_id
        if self._ids is None:
            ids = queries.page_ids(self.store, rid, offset, limit, self.query_state.descending)
        else:
            ids = self._ids[offset : offset + limit]
        return queries.sample_rows(self.store, rid, ids)

    def _count(self) -> int:
        # a plain view pages straight from the table; a filtered or sorted one orders every id once per reload
        rid = self.studio.revision_id
        if queries.is_plain(self.query_state):
            self._ids = None
            return queries.count_samples(self.store, rid)
        self._ids = queries.sample_ids(self.store, rid, self.query_state)
        return len(self._ids)

    def _update_info(self) -> None:
        q = self.query_state
        table = self.table
        arrow = "▼" if q.descending else "▲"
        marked = f" · {len(table.marked)} marked" if table.marked else ""
        self.query_one("#sample-info", Static).update(
            f"{table.total:,} rows · filter [b]{q.status}[/] · sort [b]{q.sort}[/] {arrow}{marked}"
        )
        table.show_header(q.sort, q.descending)

    def _requery(self, **changes: object) -> None:
        from dataclasses import replace

        self.query_state = replace(self.query_state, **changes)  # type: ignore[arg-type]
        self.table.reload(keep_cursor=False)
        self._update_info()

    # -- detail -------------------------------------------------------------------------------
    def on_virtual_table_cursor_moved(self, event: VirtualTable.CursorMoved) -> None:
        if self._detail_timer is not None:
            self._detail_timer.stop()
        # debounce: holding a key down on a slow link queries the detail once, when the cursor rests
        self._detail_timer = self.set_timer(0.12, self._show_detail)

    def _show_detail(self) -> None:
        pane = self.query_one(SampleDetailPane)
        row = self.table.current
        if row is None:
            pane.show_nothing("no samples: generate some in Preview (2) or Pipeline (4)")
            return
        detail = queries.sample_detail(self.store, row.id)
        if detail is not None:
            pane.show(detail)

    # -- actions ------------------------------------------------------------------------------
    def _targets(self) -> list[int]:
        table = self.table
        if table.marked:
            return sorted(table.marked)
        row = table.current
        return [row.id] if row is not None else []

    def _done(self, action: str, ids: list[int]) -> None:
        self.undo_stack.append((action, list(ids)))
        self._after_write(f"{action}: {len(ids)} sample{'s' if len(ids) > 1 else ''} (u undoes)")

    def _after_write(self, message: str) -> None:
        self.table.marked.clear()
        self.table.reload()
        self._update_info()
        self._show_detail()
        self.notify(message, timeout=2)

    @reports_errors
    def action_decide(self, action: str) -> None:
        ids = self._targets()
        if not ids:
            return

        def apply(confirmed: bool | None = True) -> None:
            if confirmed:
                queries.decide(self.store, ids, action)
                self._done(action, ids)

        if action == "reject" and len(ids) > 1:
            self.app.push_screen(ConfirmModal(f"Reject {len(ids)} marked samples?"), apply)
        else:
            apply()

    @reports_errors
    def action_undo(self) -> None:
        """Undo the last curation of this session (a bulk one as a whole), wherever the cursor is."""
        if not self.undo_stack:
            self.notify("nothing to undo in this session", severity="warning", timeout=2)
            return
        action, ids = self.undo_stack.pop()
        undone = queries.undo_decision(self.store, ids)
        self._after_write(f"undid {action} of {undone} sample{'s' if undone != 1 else ''}")

    @reports_errors
    def action_edit(self) -> None:
        row = self.table.current
        if row is None:
            return

        def save(result: tuple[str, str] | None) -> None:
            if result is not None:
                question, answer = result
                queries.decide(self.store, [row.id], "edit", question=question, answer=answer)
                self._done("edit", [row.id])

        self.app.push_screen(EditSampleModal(row.question, row.label or ""), save)

    def action_mark(self) -> None:
        self.table.toggle_mark()
        self.table.action_cursor(1)
        self._update_info()

    def action_pick_filter(self) -> None:
        def chosen(status: str | None) -> None:
            if status is not None:
                self._requery(status=status)

        options = [(f, f"{f:<13} {FILTER_HELP.get(f, '')}") for f in queries.STATUS_FILTERS]
        self.app.push_screen(PickModal("Show samples", options, self.query_state.status), chosen)

    def action_cycle_sort(self) -> None:
        cols = queries.SORT_COLUMNS
        self._requery(sort=cols[(cols.index(self.query_state.sort) + 1) % len(cols)])

    def action_reverse(self) -> None:
        self._requery(descending=not self.query_state.descending)

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_clear_search(self) -> None:
        """Escape: clear the search (in the field or in the table) and go back to the table."""
        search = self.query_one("#search", Input)
        if search.value or self.query_state.search:
            search.value = ""
            self._requery(search="")
        self.table.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "search":
            self._requery(search=event.value.strip())
            self.table.focus()


SCREEN = SamplesScreen

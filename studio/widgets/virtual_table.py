"""A table that renders only the visible rows, fetched page by page from a callback (SQLite LIMIT/OFFSET).

A stock DataTable measures every cell of every row before its first paint; this one knows only the row
count and asks for the few pages on screen, so 100,000 rows open as fast as 100.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from engine.text import visible_line

PAGE = 64
MAX_PAGES = 16


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: int = 0
    """0 = takes the remaining width."""
    format: Callable[[Any], str] = str
    style: Callable[[Any], str] | None = None
    get: Callable[[Any], Any] | None = None
    """How to read the cell's value from a row; default: the attribute named `key`."""

    def value(self, row: Any) -> Any:
        return self.get(row) if self.get is not None else getattr(row, self.key)


MARK = "●"
"""Drawn in the gutter of marked rows (colour alone is not enough)."""
GUTTER = 2


def fit(text: str, width: int, right: bool = False) -> str:
    text = visible_line(
        text
    )  # cells are raw segments: a control character would reach the terminal
    if len(text) > width:
        return text[: max(0, width - 1)] + "…"
    return text.rjust(width) if right else text.ljust(width)


class TableHeader(Static):
    """The column titles, laid out with the same widths as the table below."""

    def show(
        self, columns: Sequence[Column], width: int, sort: str = "", descending: bool = False
    ) -> None:
        widths = column_widths(columns, width - GUTTER)
        cells = [" " * (GUTTER - 1)]
        for column, w in zip(columns, widths, strict=True):
            mark = (" ▼" if descending else " ▲") if column.key == sort else ""
            cells.append(fit(column.title + mark, w))
        self.update(" ".join(cells))


def column_widths(columns: Sequence[Column], width: int) -> list[int]:
    fixed = sum(c.width for c in columns) + len(columns) - 1 + 1  # separators + scrollbar gutter
    flex = max(8, width - fixed)
    return [c.width or flex for c in columns]


class VirtualTable(ScrollView, can_focus=True):
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
    ]
    COMPONENT_CLASSES = {"virtual-table--cursor", "virtual-table--marked"}

    cursor: reactive[int] = reactive(0)

    class CursorMoved(Message):
        def __init__(self, table: VirtualTable, row: Any | None) -> None:
            super().__init__()
            self.table = table
            self.row = row

    def __init__(
        self,
        columns: Sequence[Column],
        fetch: Callable[[int, int], list[Any]],
        count: Callable[[], int],
        key: Callable[[Any], Any] = lambda r: r.id,
        header: TableHeader | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.header = header
        self.sort: tuple[str, bool] = ("", False)
        self.columns = list(columns)
        self.fetch = fetch
        self.count_rows = count
        self.row_key = key
        self.total = 0
        self.marked: set[Any] = set()
        self._pages: OrderedDict[int, list[Any]] = OrderedDict()

    def on_mount(self) -> None:
        self.reload()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, self.total)
        self.show_header()

    def show_header(self, sort: str | None = None, descending: bool | None = None) -> None:
        """Lay the column titles out with this table's widths (and the sort arrow)."""
        self.sort = (
            self.sort[0] if sort is None else sort,
            self.sort[1] if descending is None else descending,
        )
        if self.header is not None:
            self.header.show(self.columns, self.scrollable_content_region.width + 1, *self.sort)

    # -- data --------------------------------------------------------------------------------
    def reload(self, keep_cursor: bool = True) -> None:
        """Re-count and forget cached pages (after a filter, sort or store change)."""
        self._pages.clear()
        self.total = self.count_rows()
        self.virtual_size = Size(self.size.width, self.total)
        cursor = min(self.cursor, max(0, self.total - 1)) if keep_cursor else 0
        if cursor != self.cursor:
            self.cursor = cursor
        else:
            self.post_message(self.CursorMoved(self, self.row_at(cursor)))
        self.refresh()

    def row_at(self, index: int) -> Any | None:
        if not 0 <= index < self.total:
            return None
        page_no = index // PAGE
        page = self._pages.get(page_no)
        if page is None:
            page = self.fetch(page_no * PAGE, PAGE)
            self._pages[page_no] = page
            while len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        offset = index - page_no * PAGE
        return page[offset] if offset < len(page) else None

    @property
    def current(self) -> Any | None:
        return self.row_at(self.cursor)

    def toggle_mark(self) -> None:
        row = self.current
        if row is None:
            return
        key = self.row_key(row)
        self.marked.symmetric_difference_update({key})
        self.refresh()

    # -- cursor ------------------------------------------------------------------------------
    def watch_cursor(self, old: int, new: int) -> None:
        height = max(1, self.scrollable_content_region.height)
        top = int(self.scroll_offset.y)
        if new < top:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif new >= top + height:
            self.scroll_to(y=new - height + 1, animate=False, immediate=True)
        else:  # no scroll: repaint just the two rows that changed
            self.refresh_line(old)
            self.refresh_line(new)
        self.post_message(self.CursorMoved(self, self.row_at(new)))

    def action_cursor(self, delta: int) -> None:
        if self.total:
            self.cursor = max(0, min(self.total - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.scrollable_content_region.height - 1))

    def action_jump(self, where: int) -> None:
        if self.total:
            self.cursor = self.total - 1 if where < 0 else 0

    def on_click(self, event: Click) -> None:
        index = int(self.scroll_offset.y) + event.y
        if 0 <= index < self.total:
            self.cursor = index

    # -- rendering ---------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = int(self.scroll_offset.y) + y
        base = self.rich_style
        row = self.row_at(index)
        if row is None:
            return Strip.blank(width, base)
        style = base
        if self.row_key(row) in self.marked:  # the gutter symbol as well, below
            style = style + self.get_component_rich_style("virtual-table--marked")
        if index == self.cursor:
            style = style + self.get_component_rich_style("virtual-table--cursor")
        marked = self.row_key(row) in self.marked
        segments: list[Segment] = [Segment((MARK if marked else " ").ljust(GUTTER), style)]
        widths = column_widths(self.columns, width + 1 - GUTTER)
        for i, (column, w) in enumerate(zip(self.columns, widths, strict=True)):
            value = column.value(row)
            cell_style = style
            if column.style is not None and index != self.cursor:
                cell_style = style + Style.parse(column.style(value) or "none")
            right = column.width > 0 and column.key in ("id", "agreement", "pass_rate")
            segments.append(Segment(fit(column.format(value), w, right), cell_style))
            if i < len(self.columns) - 1:
                segments.append(Segment(" ", style))
        return Strip(segments).adjust_cell_length(width, style)

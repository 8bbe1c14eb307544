"""Eval: base vs trained accuracy per benchmark side by side, and the items the training fixed or broke."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from engine import queries
from studio.modals import TextModal
from studio.screens.base import StudioScreen
from studio.text import shown, shown_line


def _acc(e: dict[str, Any] | None) -> str:
    return "-" if e is None else f"{100 * e['accuracy']:.1f}% ({e['correct']}/{e['n']})"


class EvalScreen(StudioScreen):
    NAME = "eval"
    AUTO_FOCUS = "#eval-table"
    BINDINGS = [
        Binding("ctrl+r", "reload", "Reload"),
        Binding("i", "instructor_check", "Instructor check"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[dict[str, Any]] = []

    def compose_body(self) -> ComposeResult:
        yield DataTable(id="eval-table", cursor_type="row")
        with VerticalScroll(id="eval-items"):
            yield Static(id="eval-detail")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("benchmark", "base", "trained", "change")
        self.action_reload()
        self.query_one(DataTable).focus()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        self.pairs = queries.eval_pairs(self.store)
        for i, p in enumerate(self.pairs):
            change = "-"
            if p["base"] and p["trained"]:
                change = f"{100 * (p['trained']['accuracy'] - p['base']['accuracy']):+.1f} pts"
            table.add_row(
                shown_line(p["benchmark"]),
                _acc(p["base"]),
                _acc(p["trained"]),
                change,
                key=str(i),
            )
        if not self.pairs:
            self.query_one("#eval-detail", Static).update(
                "[dim]no evaluations yet: run `sdrl eval run` for the base model and a trained run[/]"
            )
        else:
            self.show_items(0)

    def action_instructor_check(self) -> None:
        """The latest `sdrl instructor check`: label accuracy vs gold by agreement level."""
        from engine.instructor_check import latest_report, report_lines

        report = latest_report(self.store)
        lines = (
            report_lines(report)
            if report
            else [
                "no instructor check yet: run",
                "  sdrl instructor check --benchmark FILE --limit 50",
                "to see how often the instructor's majority label is right at each agreement level",
            ]
        )
        self.app.push_screen(TextModal("Instructor check", lines))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.show_items(int(event.row_key.value))

    def show_items(self, index: int) -> None:
        pair = self.pairs[index]
        detail = self.query_one("#eval-detail", Static)
        if not (pair["base"] and pair["trained"]):
            detail.update(
                f"[b]{shown(pair['benchmark'])}[/]: needs both a base and a trained evaluation to compare items"
            )
            return
        diff = queries.eval_comparison(self.store, pair["base"]["id"], pair["trained"]["id"])
        lines = [
            f"[b]{shown(pair['benchmark'])}[/]  fixed [green]{len(diff['fixed'])}[/] · broken [red]{len(diff['broken'])}[/]"
        ]
        for title, colour, items in (
            ("fixed", "green", diff["fixed"]),
            ("broken", "red", diff["broken"]),
        ):
            for item in items[:50]:
                lines.append(
                    f"[{colour}]{title}[/] #{item['idx']} gold {shown(item['gold'])} · base "
                    f"{shown(str(item['base_answer']))} → trained {shown(str(item['trained_answer']))}: "
                    f"[dim]{shown_line(item['question'], 120)}[/]"
                )
        detail.update("\n".join(lines))

    def current_index(self) -> int | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return int(key) if key is not None else None


SCREEN = EvalScreen

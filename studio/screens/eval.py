"""Eval: start an eval; base vs trained accuracy per benchmark side by side; the items the training fixed or broke."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from engine import queries
from engine.jobs import get_job, start_job
from studio.eval_form import EvalFormModal
from studio.modals import TextModal
from studio.screens.base import StudioScreen, reports_errors
from studio.text import shown, shown_line


def _acc(e: dict[str, Any] | None) -> str:
    return "-" if e is None else f"{100 * e['accuracy']:.1f}% ({e['correct']}/{e['n']})"


def short_benchmark(name: str) -> str:
    """A benchmark as a reader names it: a file's stem (gsm8k-mini, not /long/path/gsm8k-mini.jsonl)."""
    if "/" in name or "\\" in name or name.endswith((".jsonl", ".json")):
        return (
            name.replace("\\", "/")
            .rstrip("/")
            .rsplit("/", 1)[-1]
            .removesuffix(".jsonl")
            .removesuffix(".json")
        )
    return name


class EvalScreen(StudioScreen):
    NAME = "eval"
    AUTO_FOCUS = "#eval-table"
    BINDINGS = [
        Binding("ctrl+r", "reload", "Reload"),
        Binding("l", "launch", "Launch"),
        Binding("i", "instructor_check", "Instructor check"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[dict[str, Any]] = []
        self.items: list[dict[str, Any]] = []
        """The fixed and broken items of the highlighted benchmark, as listed."""

    def compose_body(self) -> ComposeResult:
        yield DataTable(id="eval-table", cursor_type="row")
        yield Static(id="eval-detail")
        yield DataTable(id="eval-item-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="eval-items"):
            yield Static(id="eval-item")

    def on_mount(self) -> None:
        self.query_one("#eval-table", DataTable).add_columns(
            "benchmark", "base", "trained", "change"
        )
        self.query_one("#eval-item-table", DataTable).add_columns(
            "", "#", "gold", "base", "trained", "question"
        )
        self.action_reload()
        self.query_one("#eval-table", DataTable).focus()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        table = self.query_one("#eval-table", DataTable)
        table.clear()
        self.pairs = queries.eval_pairs(self.store)
        for i, p in enumerate(self.pairs):
            change = "-"
            if p["base"] and p["trained"]:
                change = f"{100 * (p['trained']['accuracy'] - p['base']['accuracy']):+.1f} pts"
            table.add_row(
                shown_line(short_benchmark(p["benchmark"])),
                _acc(p["base"]),
                _acc(p["trained"]),
                change,
                key=str(i),
            )
        if not self.pairs:
            self.query_one("#eval-detail", Static).update(
                "[dim]no evaluations yet: press l to start one (or run `sdrl eval run`)[/]"
            )
            self.show_item_rows([])
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
        if event.row_key.value is None:
            return
        if event.data_table.id == "eval-table":
            self.show_items(int(event.row_key.value))
        else:
            self.show_item(int(event.row_key.value))

    def show_items(self, index: int) -> None:
        """Fixed and broken items of one benchmark: a row each, the highlighted one in full below."""
        pair = self.pairs[index]
        detail = self.query_one("#eval-detail", Static)
        title = f"[b]{shown(short_benchmark(pair['benchmark']))}[/]"
        if not (pair["base"] and pair["trained"]):
            detail.update(f"{title}: needs both a base and a trained evaluation to compare items")
            self.show_item_rows([])
            return
        diff = queries.eval_comparison(self.store, pair["base"]["id"], pair["trained"]["id"])
        full = pair["benchmark"]
        where = f" [dim]{shown_line(full)}[/]" if short_benchmark(full) != full else ""
        detail.update(
            f"{title}{where}\n"
            f"{diff['n']} items · fixed [green]{len(diff['fixed'])}[/] · broken [red]{len(diff['broken'])}[/]"
        )
        self.show_item_rows(
            [{**item, "kind": "fixed"} for item in diff["fixed"]]
            + [{**item, "kind": "broken"} for item in diff["broken"]]
        )

    def show_item_rows(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        table = self.query_one("#eval-item-table", DataTable)
        table.clear()
        for i, item in enumerate(items):
            colour = "green" if item["kind"] == "fixed" else "red"
            table.add_row(
                f"[{colour}]{item['kind']}[/]",
                str(item["idx"]),
                shown_line(item["gold"], 16),
                shown_line(str(item["base_answer"]), 16),
                shown_line(str(item["trained_answer"]), 16),
                shown_line(item["question"], 80),
                key=str(i),
            )
        table.display = bool(items)
        if items:
            self.show_item(0)
        else:
            self.query_one("#eval-item", Static).update("")

    def show_item(self, index: int) -> None:
        item = self.items[index]
        self.query_one("#eval-item", Static).update(
            f"[b]#{item['idx']}[/] {item['kind']} · gold [b]{shown(item['gold'])}[/] · "
            f"base {shown(str(item['base_answer']))} → trained {shown(str(item['trained_answer']))}\n"
            f"{shown(item['question'])}"
        )

    @reports_errors
    def action_launch(self) -> None:
        """Start an eval job (benchmark, limit, run); it outlives the studio, and the table reloads when it ends."""
        runs = [r for r in queries.train_runs(self.store) if r["status"] == "finished"]

        def chosen(options: dict[str, Any] | None) -> None:
            if options is None:
                return
            job = start_job(self.workspace, "eval", options, run_id=options.get("run_id"))
            self.notify(
                f"eval job {job.id} started: {short_benchmark(options['benchmark'])}", timeout=4
            )
            self.watch_job(job.id)

        self.app.push_screen(EvalFormModal([r["id"] for r in runs]), chosen)

    def watch_job(self, job_id: str) -> None:
        """Poll the job until it ends (check_job), then stop polling."""

        def poll() -> None:
            if not self.check_job(job_id):
                timer.stop()

        timer = self.set_interval(self.studio.poll_interval, poll)

    def check_job(self, job_id: str) -> bool:
        """Whether the eval job still runs; when it has ended, reload the table or show its failure."""
        job = get_job(self.store, job_id)
        if job.live:
            return True
        self.action_reload()
        if job.state == "failed":
            from engine.errors import RunError

            self.studio.show_error(RunError(f"eval job {job.id} failed: {job.cause}", job.hint))
        else:
            self.notify(f"eval job {job.id} {job.state}", timeout=4)
        return False

    def current_index(self) -> int | None:
        table = self.query_one("#eval-table", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return int(key) if key is not None else None


SCREEN = EvalScreen

"""The sample pane: what a curator needs to decide: distinct votes and the winner, every rollout, the edit history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Collapsible, Static

from engine.queries import SampleDetail
from studio.text import shown, shown_line

NO_ANSWER = "∅"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def vote_counts(answers: Sequence[str | None]) -> list[tuple[str | None, int]]:
    """Each distinct answer with its count, most votes first (ties: the answer seen first), unreadable ones (None) last."""
    counts: dict[str | None, int] = {}
    for answer in answers:
        counts[answer] = counts.get(answer, 0) + 1
    order = list(counts)
    return sorted(counts.items(), key=lambda kv: (kv[0] is None, -kv[1], order.index(kv[0])))


def votes_line(answers: Sequence[str | None]) -> str:
    counts = vote_counts(answers)
    parts = []
    for index, (answer, n) in enumerate(counts):
        text = f"{shown_line(answer) if answer is not None else NO_ANSWER} ×{n}"
        parts.append(f"[b green]{text} (winner)[/]" if index == 0 and answer is not None else text)
    return f"[b]votes[/] {len(answers)}: " + " · ".join(parts)


def history_lines(decisions: Sequence[dict[str, Any]]) -> list[str]:
    """One line per curation decision, oldest first; edits say what they set."""
    lines = []
    for d in decisions:
        when = datetime.fromtimestamp(d["created_at"]).strftime("%Y-%m-%d %H:%M")
        line = f"  {when} [b]{d['action']}[/]"
        if d["action"] == "edit":
            if d.get("answer"):
                line += f" label → {shown_line(d['answer'], 40)}"
            if d.get("question"):
                line += f" · question → {shown_line(d['question'], 60)}"
        lines.append(line)
    return lines


class SampleDetailPane(VerticalScroll):
    """Summary, question, votes, probe, passage and history in one block; then one collapsible per rollout."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rollouts_shown: object = None
        """What the rollout list shows now: the same sample again (a reload) keeps it, unflickering and expanded."""

    def compose(self) -> ComposeResult:
        yield Static(id="detail")
        yield Vertical(id="rollouts")

    def show_nothing(self, message: str) -> None:
        self.query_one("#detail", Static).update(f"[dim]{message}[/]")
        self._rollouts_shown = None
        self.run_worker(self._show_rollouts([]), group="rollouts", exclusive=True)

    def show(self, d: SampleDetail) -> None:
        row = d.row
        lines = [
            f"[b]#{row.id}[/] {row.origin} · {row.status} · label [b]{shown(row.label or '-')}[/] · "
            f"agreement {_pct(row.agreement)} · pass rate {_pct(row.pass_rate)}",
            shown(row.question),
        ]
        if d.votes:
            lines.append(votes_line([v["answer"] for v in d.votes]))
        if d.probe:
            lines.append(
                f"[b]probe[/] {'solved' if d.probe['correct'] else 'unsolved'} ({shown(d.probe['answer'] or NO_ANSWER)})"
            )
        if d.rollouts:
            right = sum(bool(r["correct"]) for r in d.rollouts)
            marks = "".join("[green]✓[/]" if r["correct"] else "[red]✗[/]" for r in d.rollouts)
            lines.append(
                f"[b]rollouts[/] {marks} {right}/{len(d.rollouts)} correct [dim](expand one below)[/]"
            )
        if d.passage:
            lines.append(f"[b]passage[/] [dim]{shown(d.passage[:600])}[/]")
        if d.decisions:
            lines.append("[b]history[/]")
            lines += history_lines(d.decisions)
        self.query_one("#detail", Static).update("\n".join(lines))
        shown_now = (row.id, [(r["idx"], r["correct"], r["answer"], r["text"]) for r in d.rollouts])
        if shown_now != self._rollouts_shown:
            self._rollouts_shown = shown_now
            # the newest sample wins: a cursor that moves on cancels the mount still in flight
            self.run_worker(self._show_rollouts(d.rollouts), group="rollouts", exclusive=True)

    async def _show_rollouts(self, rollouts: Sequence[dict[str, Any]]) -> None:
        box = self.query_one("#rollouts", Vertical)
        await box.remove_children()
        await box.mount_all(
            Collapsible(
                Static(shown(r["text"]), classes="rollout-text"),
                title=(
                    f"rollout {r['idx']} {'✓' if r['correct'] else '✗'} → "
                    f"{shown_line(r['answer'], 40) if r['answer'] is not None else NO_ANSWER}"
                ),
                collapsed=True,
                classes="rollout",
            )
            for r in rollouts
        )

"""`sdrl samples list|show|accept|pin|reject|clear|undo|edit`: the sample pool as curated, read and decided through engine.queries."""

from __future__ import annotations

from typing import Any

import click

from engine.cli.common import echo_json, workspace_from
from engine.text import visible, visible_line

STATUSES = (
    "accepted",
    "pinned",
    "rejected",
    "edited",
    "pending",
    "labelled",
    "unlabelable",
    "duplicate",
    "contaminated",
    "doubtful",
    "unscored",
)
"""The studio's status filters: a decision or edit in force, else the pipeline's status."""
ORIGINS = ("initial", "harder", "easier", "manual")


@click.group("samples")
def samples_group() -> None:
    """List, show and curate samples (the same decisions as the studio's sample screen)."""


def _row_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "revision_id": row.revision_id,
        "origin": row.origin,
        "status": row.status,
        "decision": row.decision,
        "edited": row.edited,
        "label": row.label,
        "agreement": row.agreement,
        "pass_rate": row.pass_rate,
        "question": row.question,
    }


@samples_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--status",
    type=click.Choice(STATUSES),
    default=None,
    help="Status in force (a decision or edit, else the pipeline's).",
)
@click.option("--origin", type=click.Choice(ORIGINS), default=None)
@click.option("--all-revisions", is_flag=True, help="Include samples of older task revisions.")
@click.option("--limit", type=click.IntRange(1), default=None)
@click.pass_context
def list_cmd(
    ctx: click.Context,
    as_json: bool,
    status: str | None,
    origin: str | None,
    all_revisions: bool,
    limit: int | None,
) -> None:
    """Samples with status, label and agreement: edits and decisions applied, as the studio shows them."""
    from engine.queries.sample_records import listed_samples

    ws = workspace_from(ctx, writable=False)
    revision, _ = ws.current_revision()
    rows = listed_samples(
        ws.store,
        None if all_revisions else revision.id,
        status=status or "all",
        origin=origin,
        limit=limit,
    )
    if as_json:
        echo_json([_row_dict(r) for r in rows])
        return
    for r in rows:
        agreement = "" if r.agreement is None else f"{r.agreement:.2f}"
        question = visible_line(r.question, 70)
        label = visible_line(r.label or "")
        click.echo(f"{r.id:>6} {r.origin:<8} {r.status:<12} {label:>10} {agreement:>5}  {question}")
    click.echo(f"{len(rows)} samples")


@samples_group.command("show")
@click.argument("sample_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show_cmd(ctx: click.Context, sample_id: int, as_json: bool) -> None:
    """One sample: the question and label in force, passage, votes, agreement, rationale, probes, rollouts, decisions."""
    from engine.queries.sample_records import sample_record

    ws = workspace_from(ctx, writable=False)
    sample = sample_record(ws.store, sample_id)
    if sample is None:
        _no_sample(sample_id)
    assert sample is not None
    if as_json:
        echo_json(sample)
        return
    click.secho(
        f"sample {sample_id}  [{sample['origin']}, {sample['status']}, slot {visible_line(sample['slot_key'])}]",
        bold=True,
    )
    edited = "  (edited; generated: see --json original_question)" if sample["edited"] else ""
    click.echo(f"\nQuestion{edited}:\n{visible(sample['question'])}\n")
    click.echo(f"Generated answer:\n{visible(sample['generated_answer'])}\n")
    agreement = "-" if sample["agreement"] is None else f"{sample['agreement']:.2f}"
    click.echo(f"Label: {visible_line(sample['label'])}   agreement: {agreement}")
    if sample["rationale"]:
        click.echo(f"Rationale:\n{visible(sample['rationale'])}\n")
    passage = sample["passage"]
    click.echo(f"Passage: {visible_line(passage, 600) if passage else '(none)'}\n")
    votes = sample["votes"]
    if votes:
        click.echo(f"Votes ({len(votes)}; 0 = the generator's own):")
        for v in votes:
            click.echo(
                f"  {v['idx']:>2}: {visible_line(v['answer']) if v['answer'] is not None else '(unparseable)'}"
            )
    for p in sample["probes"]:
        click.echo(
            f"Probe {visible_line(p['model'])}: answer {visible_line(p['answer'])} ({'correct' if p['correct'] else 'wrong'})"
        )
    for r in sample["rollouts"]:
        click.echo(f"Rollouts {visible_line(r['model'])}: {r['passed']}/{r['k']} correct")
    for s in sample["scores"]:
        click.echo(
            f"Pass rate {visible_line(s['model'])}: {s['pass_rate']:.2f} ({s['passed']}/{s['k']})"
        )
    for d in sample["decisions"]:
        click.echo(f"Decision #{d['id']}: {d['action']}")


def _no_sample(sample_id: int) -> None:
    from engine.errors import StageError

    raise StageError(f"no sample {sample_id}", "list samples with `sdrl samples list`")


def _check_ids(store: Any, sample_ids: tuple[int, ...]) -> list[int]:
    """The ids, all checked before anything is written (one unknown id writes nothing)."""
    from engine.queries import sample_row

    for sid in sample_ids:
        if sample_row(store, sid) is None:
            _no_sample(sid)
    return list(dict.fromkeys(sample_ids))


def _report(store: Any, ids: list[int], verb: str, as_json: bool) -> None:
    from engine.queries import sample_row

    rows = [r for r in (sample_row(store, sid) for sid in ids) if r is not None]
    if as_json:
        echo_json([_row_dict(r) for r in rows])
        return
    for r in rows:
        click.echo(f"{verb} #{r.id}: now {r.status}")


def _decision_command(action: str, verb: str, help_text: str) -> click.Command:
    @click.command(action, help=help_text)
    @click.argument("sample_ids", type=int, nargs=-1, required=True)
    @click.option("--json", "as_json", is_flag=True, help="Print the samples after the decision.")
    @click.pass_context
    def command(ctx: click.Context, sample_ids: tuple[int, ...], as_json: bool) -> None:
        from engine.queries import decide

        ws = workspace_from(ctx)
        ids = _check_ids(ws.store, sample_ids)
        decide(ws.store, ids, action)
        _report(ws.store, ids, verb, as_json)

    return command


for _action, _verb, _help in (
    (
        "accept",
        "accepted",
        "Accept samples: always selected for training, whatever their pass rate.",
    ),
    ("pin", "pinned", "Pin samples: always selected for training, as accept; shown as pinned."),
    ("reject", "rejected", "Reject samples: never selected, trained, exported or evaluated."),
    (
        "clear",
        "cleared",
        "Clear samples' decisions and edits: the pipeline's text and status again.",
    ),
):
    samples_group.add_command(_decision_command(_action, _verb, _help))


@samples_group.command("undo")
@click.argument("sample_ids", type=int, nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the samples after the undo.")
@click.pass_context
def undo_cmd(ctx: click.Context, sample_ids: tuple[int, ...], as_json: bool) -> None:
    """Undo each sample's newest decision or edit (the one before it comes back in force)."""
    from engine.queries import undo_decision

    ws = workspace_from(ctx)
    ids = _check_ids(ws.store, sample_ids)
    undo_decision(ws.store, ids)
    _report(ws.store, ids, "undid the newest decision of", as_json)


@samples_group.command("edit")
@click.argument("sample_id", type=int)
@click.option("--question", default=None, help="The new question (default: keep the one in force).")
@click.option("--answer", default=None, help="The new label (default: keep the one in force).")
@click.option("--json", "as_json", is_flag=True, help="Print the sample after the edit.")
@click.pass_context
def edit_cmd(
    ctx: click.Context, sample_id: int, question: str | None, answer: str | None, as_json: bool
) -> None:
    """Replace a sample's question and/or label for every later stage, training, export and eval."""
    from engine.errors import StageError
    from engine.queries import edit_sample

    if question is None and answer is None:
        raise StageError("nothing to edit", "pass --question TEXT and/or --answer TEXT")
    if question is not None and not question.strip():
        raise StageError("the question cannot be empty", "pass the new text with --question")
    ws = workspace_from(ctx)
    ids = _check_ids(ws.store, (sample_id,))
    edit_sample(ws.store, ids[0], question=question, answer=answer)
    _report(ws.store, ids, "edited", as_json)

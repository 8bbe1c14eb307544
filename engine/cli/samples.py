"""`sdrl samples list|show`: the sample pool of the current revision, with votes, agreement and any probes/rollouts."""

from __future__ import annotations

import click

from engine.cli.common import echo_json, workspace_from
from engine.text import visible, visible_line

STATUSES = ("pending", "labelled", "unlabelable", "duplicate", "contaminated")
ORIGINS = ("initial", "harder", "easier", "manual")


@click.group("samples")
def samples_group() -> None:
    """List, show and curate samples."""


@samples_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--status", type=click.Choice(STATUSES), default=None)
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
    """Samples with status, label and agreement."""
    ws = workspace_from(ctx)
    revision, _ = ws.current_revision()
    where: list[str] = []
    params: list[object] = []
    if not all_revisions:
        where.append("revision_id=?")
        params.append(revision.id)
    if status:
        where.append("status=?")
        params.append(status)
    if origin:
        where.append("origin=?")
        params.append(origin)
    sql = "SELECT id, revision_id, origin, slot_key, status, label, agreement, passage_id, question FROM samples"
    sql += (" WHERE " + " AND ".join(where)) if where else ""
    sql += " ORDER BY id" + (f" LIMIT {int(limit)}" if limit else "")
    rows = [dict(r) for r in ws.store.query(sql, params)]
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        agreement = "" if r["agreement"] is None else f"{r['agreement']:.2f}"
        question = visible_line(r["question"], 70)
        label = visible_line(r["label"] or "")
        click.echo(
            f"{r['id']:>6} {r['origin']:<8} {r['status']:<12} {label:>10} {agreement:>5}  {question}"
        )
    click.echo(f"{len(rows)} samples")


@samples_group.command("show")
@click.argument("sample_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show_cmd(ctx: click.Context, sample_id: int, as_json: bool) -> None:
    """One sample: question, passage, votes, agreement, rationale, probes and rollouts."""
    from engine.errors import StageError

    ws = workspace_from(ctx)
    store = ws.store
    row = store.query("SELECT * FROM samples WHERE id=?", (sample_id,))
    if not row:
        raise StageError(f"no sample {sample_id}", "list samples with `sdrl samples list`")
    sample = dict(row[0])
    passage = (
        store.scalar("SELECT text FROM passages WHERE id=?", (sample["passage_id"],))
        if sample["passage_id"]
        else None
    )
    votes = [
        dict(v)
        for v in store.query(
            "SELECT idx, answer, text FROM votes WHERE sample_id=? ORDER BY idx", (sample_id,)
        )
    ]
    probes = [
        dict(p)
        for p in store.query(
            "SELECT model, answer, correct, text FROM probes WHERE sample_id=?", (sample_id,)
        )
    ]
    rollouts = store.query(
        "SELECT model, COUNT(*) AS k, SUM(correct) AS passed FROM rollouts WHERE sample_id=? GROUP BY model",
        (sample_id,),
    )
    scores = [
        dict(s)
        for s in store.query(
            "SELECT model, k, passed, pass_rate FROM scores WHERE sample_id=?", (sample_id,)
        )
    ]
    if as_json:
        echo_json(
            {
                **sample,
                "passage": passage,
                "votes": votes,
                "probes": probes,
                "rollouts": [dict(r) for r in rollouts],
                "scores": scores,
            }
        )
        return
    click.secho(
        f"sample {sample_id}  [{sample['origin']}, {sample['status']}, slot {sample['slot_key']}]",
        bold=True,
    )
    click.echo(f"\nQuestion:\n{visible(sample['question'])}\n")
    click.echo(f"Generated answer:\n{visible(sample['generated_answer'])}\n")
    agreement = "-" if sample["agreement"] is None else f"{sample['agreement']:.2f}"
    click.echo(f"Label: {visible_line(sample['label'])}   agreement: {agreement}")
    if sample["rationale"]:
        click.echo(f"Rationale:\n{visible(sample['rationale'])}\n")
    click.echo(f"Passage: {visible_line(passage, 600) if passage else '(none)'}\n")
    if votes:
        click.echo(f"Votes ({len(votes)}; 0 = the generator's own):")
        for v in votes:
            click.echo(
                f"  {v['idx']:>2}: {visible_line(v['answer']) if v['answer'] is not None else '(unparseable)'}"
            )
    for p in probes:
        click.echo(
            f"Probe {visible_line(p['model'])}: answer {visible_line(p['answer'])} ({'correct' if p['correct'] else 'wrong'})"
        )
    for r in rollouts:
        click.echo(f"Rollouts {visible_line(r['model'])}: {r['passed']}/{r['k']} correct")
    for s in scores:
        click.echo(
            f"Pass rate {visible_line(s['model'])}: {s['pass_rate']:.2f} ({s['passed']}/{s['k']})"
        )

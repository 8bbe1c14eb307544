"""`sdrl corpus add|search|list`: ingest documents into passages and query the BM25 index."""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli.common import StopFlag, echo_json, workspace_from
from engine.events import Event, ItemDone, ItemFailed, StageFinished


@click.group("corpus")
def corpus_group() -> None:
    """Add documents to the corpus and search it."""


@corpus_group.command("add")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--field",
    default=None,
    help="Text field of .jsonl records (default: generation.jsonl_text_field).",
)
@click.option("-q", "--quiet", is_flag=True, help="Only the summary line.")
@click.pass_context
def add_cmd(ctx: click.Context, paths: tuple[Path, ...], field: str | None, quiet: bool) -> None:
    """Ingest .txt, .md and .jsonl files (or folders of them); unchanged files are not re-indexed."""
    from engine.corpus.ingest import iter_ingest

    ws = workspace_from(ctx)
    gen = ws.task().generation
    stop = StopFlag().install()
    finished: StageFinished | None = None
    events = iter_ingest(
        ws.store,
        ws.index_dir,
        paths,
        chunk_chars=gen.chunk_chars,
        overlap=gen.chunk_overlap,
        jsonl_field=field or gen.jsonl_text_field,
        root=ws.root,
        should_stop=stop,
    )
    for event in events:
        finished = _show(event, quiet) or finished
    if finished is not None:
        c = finished.counts
        click.echo(
            f"{c['added']} added, {c['updated']} updated, {c['unchanged']} unchanged, {c['skipped']} skipped; "
            f"{c['passages']} new passages; corpus holds {ws.store.scalar('SELECT COUNT(*) FROM passages')} passages"
            + (" (stopped)" if finished.stopped else "")
        )


def _show(event: Event, quiet: bool) -> StageFinished | None:
    if isinstance(event, ItemDone) and not quiet:
        d = event.detail
        extra = f", {d['passages']} passages" if d["status"] != "unchanged" else ""
        click.echo(
            f"{d['status']:>9}  {d['path']}{extra}"
            + (f" ({d['reason']})" if d.get("reason") else "")
        )
    elif isinstance(event, ItemFailed):
        click.secho(f"  skipped  {event.item_id}: {event.reason}", fg="yellow", err=True)
    elif isinstance(event, StageFinished):
        return event
    return None


@corpus_group.command("search")
@click.argument("query")
@click.option(
    "-k", "k", default=5, show_default=True, type=click.IntRange(1, 1000), help="Number of hits."
)
@click.option("--json", "as_json", is_flag=True, help="Print hits as JSON.")
@click.option("--chars", default=240, show_default=True, help="Characters of each passage to show.")
@click.pass_context
def search_cmd(ctx: click.Context, query: str, k: int, as_json: bool, chars: int) -> None:
    """BM25 search; any text is a safe query (it is reduced to plain words)."""
    from engine.corpus.index import search

    ws = workspace_from(ctx)
    hits = search(ws.store, ws.index_dir, query, k)
    if as_json:
        echo_json(
            [
                {
                    "passage_id": h.passage_id,
                    "score": round(h.score, 4),
                    "path": h.path,
                    "text": h.text,
                }
                for h in hits
            ]
        )
        return
    if not hits:
        click.echo("no hits")
        return
    for rank, hit in enumerate(hits, 1):
        snippet = " ".join(hit.text.split())[:chars]
        click.echo(
            f"{rank:>3}. score {hit.score:7.3f}  passage {hit.passage_id}  {hit.path}\n     {snippet}"
        )


@corpus_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """Documents in the corpus with their passage counts."""
    ws = workspace_from(ctx, writable=False)
    rows = [
        dict(r)
        for r in ws.store.query(
            "SELECT id, path, n_passages, size, sha256 FROM documents ORDER BY path"
        )
    ]
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['n_passages']:>7} passages  {r['path']}")
    click.echo(f"{len(rows)} documents")

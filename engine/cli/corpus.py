"""`sdrl corpus add|search|list`: ingest documents into passages and query the BM25 index."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from engine.cli.common import StopFlag, echo_json, workspace_from
from engine.errors import Interrupted, StageError
from engine.events import Event, ItemDone, ItemFailed, StageFinished, StageWarning
from engine.text import visible_line


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
    refused: list[str] = []
    for event in events:
        finished = _show(event, quiet) or finished
        if isinstance(event, ItemFailed) and event.detail.get("explicit"):
            refused.append(f"{visible_line(event.item_id)} ({visible_line(event.reason)})")
    if finished is not None:
        c = finished.counts
        click.echo(
            f"{c['added']} added, {c['updated']} updated, {c['unchanged']} unchanged, {c['skipped']} skipped; "
            f"{c['passages']} new passages; corpus holds {ws.store.scalar('SELECT COUNT(*) FROM passages')} passages"
            + (" (stopped)" if finished.stopped else "")
        )
        if finished.stopped and StopFlag.signalled.is_set():
            raise Interrupted("corpus add")
    if refused:
        raise StageError(
            f"{len(refused)} file(s) named on the command line added nothing: "
            + "; ".join(refused),
            "fix or convert those files (UTF-8 .txt, .md or .jsonl; --field NAME for .jsonl), then add them again",
        )


def _show(event: Event, quiet: bool) -> StageFinished | None:
    if isinstance(event, ItemDone) and not quiet:
        d = event.detail
        extra = f", {d['passages']} passages" if d["status"] != "unchanged" else ""
        click.echo(
            f"{d['status']:>9}  {visible_line(d['path'])}{extra}"
            + (f" ({visible_line(d['reason'])})" if d.get("reason") else "")
        )
    elif isinstance(event, ItemFailed):
        click.secho(
            f"  skipped  {visible_line(event.item_id)}: {visible_line(event.reason)}",
            fg="yellow",
            err=True,
        )
    elif isinstance(event, StageWarning):
        click.secho(f"warning: {visible_line(event.message)}", fg="yellow", err=True)
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
    from engine.corpus.index import PassageIndex, search, writer_busy

    ws = workspace_from(ctx, writable=False)
    hits = search(ws.store, ws.index_dir, query, k)
    if not PassageIndex(ws.index_dir, ws.store).in_step():
        click.secho(
            "note: another process is adding to the corpus; searching the index as last committed"
            if writer_busy(ws.index_dir)
            else "note: the index lags the workspace database; run `sdrl corpus check` to repair it",
            fg="yellow",
            err=True,
        )
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
        click.echo(
            f"{rank:>3}. score {hit.score:7.3f}  passage {hit.passage_id}  {visible_line(hit.path)}\n"
            f"     {visible_line(hit.text, chars)}"
        )


@corpus_group.command("check")
@click.option("--no-repair", is_flag=True, help="Only report; do not rebuild the index.")
@click.pass_context
def check_cmd(ctx: click.Context, no_repair: bool) -> None:
    """Compare the corpus in the workspace database with the search index; rebuild the index if they differ."""
    from engine.corpus.index import PassageIndex

    ws = workspace_from(ctx, writable=not no_repair)
    report = PassageIndex(ws.index_dir, ws.store).check(repair=not no_repair)
    indexed = "no index" if report.indexed_passages < 0 else f"{report.indexed_passages} indexed"
    click.echo(
        f"store {report.store_passages} passages, index {indexed}, "
        f"{report.stale_documents} documents out of step"
    )
    if report.in_step:
        click.echo("the index is in step with the store")
    elif report.repaired:
        click.echo(f"repaired: the index now holds all {report.store_passages} passages")
    else:
        click.echo("the index is out of step; run `sdrl corpus check` to repair it", err=True)
        sys.exit(1)


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
        click.echo(f"{r['n_passages']:>7} passages  {visible_line(r['path'])}")
    click.echo(f"{len(rows)} documents")

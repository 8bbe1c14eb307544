"""Exact and near-duplicate removal (word-shingle Jaccard) and decontamination against a benchmark (word n-grams)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from engine.errors import StageError
from engine.events import Event, StageFinished, StageStarted
from engine.pool import question_hash
from engine.stages import StageContext
from engine.stages.synthesis_common import record_failure

SHINGLE = 3
_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def shingles(text: str, size: int = SHINGLE) -> frozenset[tuple[str, ...]]:
    tokens = words(text)
    if len(tokens) < size:
        return frozenset([tuple(tokens)]) if tokens else frozenset()
    return frozenset(tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1))


def jaccard(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def find_duplicates(
    items: Iterable[tuple[int, str]], threshold: float
) -> dict[int, tuple[int, str]]:
    """{duplicate id: (kept id it repeats, 'exact' | 'near')}; the earliest of a group is kept."""
    kept_hash: dict[str, int] = {}
    kept: dict[int, frozenset[tuple[str, ...]]] = {}
    postings: dict[tuple[str, ...], list[int]] = {}
    found: dict[int, tuple[int, str]] = {}
    for item_id, question in items:
        digest = question_hash(question)
        if digest in kept_hash:
            found[item_id] = (kept_hash[digest], "exact")
            continue
        grams = shingles(question)
        candidates = {other for g in grams for other in postings.get(g, ())}
        near = next((o for o in sorted(candidates) if jaccard(grams, kept[o]) >= threshold), None)
        if near is not None:
            found[item_id] = (near, "near")
            continue
        kept_hash[digest] = item_id
        kept[item_id] = grams
        for g in grams:
            postings.setdefault(g, []).append(item_id)
    return found


def iter_dedup(ctx: StageContext) -> Iterator[Event]:
    """Mark later copies among the revision's pending and labelled samples as `duplicate` (idempotent)."""
    rows = ctx.store.query(
        "SELECT id, question FROM samples WHERE revision_id=? AND status IN ('pending','labelled') ORDER BY id",
        (ctx.revision.id,),
    )
    yield StageStarted("dedup", total=len(rows))
    found = find_duplicates(
        ((r["id"], r["question"]) for r in rows), ctx.task.generation.near_duplicate_threshold
    )
    with ctx.store.transaction() as conn:
        for dup, (original, kind) in found.items():
            conn.execute("UPDATE samples SET status='duplicate' WHERE id=?", (dup,))
            record_failure(
                conn, ctx.revision.id, "dedup", str(dup), f"{kind} duplicate of sample {original}"
            )
    exact = sum(1 for _, kind in found.values() if kind == "exact")
    yield StageFinished(
        "dedup",
        counts={
            "checked": len(rows),
            "exact_duplicates": exact,
            "near_duplicates": len(found) - exact,
        },
    )


def benchmark_texts(path: Path) -> list[str]:
    """Questions of a benchmark file: .jsonl/.json records (question, input, problem, text fields) or plain text lines."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StageError(
            f"cannot read the decontamination file {path}: {exc}",
            "fix generation.decontaminate_file in task.toml",
        ) from exc
    fields = ("question", "input", "problem", "text", "prompt")
    records: list[object] = []
    if path.suffix == ".jsonl":
        for line in raw.splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    elif path.suffix == ".json":
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise StageError(
                f"{path} is not valid JSON", "use a .jsonl file with a question field per line"
            ) from exc
        records = data if isinstance(data, list) else []
    else:
        return [line for line in raw.splitlines() if line.strip()]
    texts: list[str] = []
    for record in records:
        if isinstance(record, dict):
            texts.extend(str(record[f]) for f in fields if isinstance(record.get(f), str))
        elif isinstance(record, str):
            texts.append(record)
    return texts


def ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    tokens = words(text)
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def benchmark_files(ctx: StageContext) -> list[Path]:
    """The benchmarks to decontaminate against: every built-in benchmark (GSM8K's test split),
    generation.decontaminate_file (a built-in name or a file, which must exist) and every benchmark
    this workspace was evaluated on that is still there."""
    from engine.benchmarks import builtin_benchmarks
    from engine.queries import evals

    builtins = builtin_benchmarks()
    files = list(builtins.values())
    named = [ctx.task.generation.decontaminate_file or ""]
    named += [str(e["benchmark"]) for e in evals(ctx.store)]
    for i, name in enumerate(named):
        if not name or name in builtins:
            continue
        path = Path(name).expanduser()
        if not path.is_absolute():
            path = ctx.workspace.root / path
        if (i == 0 or path.is_file()) and path not in files:
            files.append(
                path
            )  # the configured file must exist (benchmark_texts says so); evaluated ones may be gone
    return files


def iter_decontaminate(ctx: StageContext) -> Iterator[Event]:
    """Samples sharing any `decontaminate_ngram`-word sequence with a benchmark (benchmark_files) become `contaminated`."""
    gen = ctx.task.generation
    files = benchmark_files(ctx) if gen.decontaminate else []
    if not files:
        yield StageStarted("decontaminate", total=0)
        yield StageFinished("decontaminate", counts={"skipped": 1})
        return
    bench: set[tuple[str, ...]] = set()
    for path in files:
        for text in benchmark_texts(path):
            bench |= ngrams(text, gen.decontaminate_ngram)
    rows = ctx.store.query(
        "SELECT id, question FROM samples WHERE revision_id=? AND status IN ('pending','labelled') ORDER BY id",
        (ctx.revision.id,),
    )
    yield StageStarted("decontaminate", total=len(rows))
    hit = [r["id"] for r in rows if ngrams(r["question"], gen.decontaminate_ngram) & bench]
    names = ", ".join(p.name for p in files)
    with ctx.store.transaction() as conn:
        for sample_id in hit:
            conn.execute("UPDATE samples SET status='contaminated' WHERE id=?", (sample_id,))
            record_failure(
                conn,
                ctx.revision.id,
                "decontaminate",
                str(sample_id),
                f"shares a {gen.decontaminate_ngram}-word sequence with {names}",
            )
    yield StageFinished("decontaminate", counts={"checked": len(rows), "contaminated": len(hit)})

"""Retrieval: our BM25 index (tantivy, through engine.corpus) vs rank_bm25 (the paper's retriever) vs bm25s.

200,000 passages: MedQuAD answers cut into passages and repeated with every fourth word swapped
(deterministic), when the shared data folder is there; otherwise generated from a Zipf vocabulary.
Build time: ours ingests a JSONL file into SQLite and tantivy (everything `sdrl corpus add` does);
the baselines tokenize an in-memory list and index it. Queries: top 10 with the passage texts on
every side; each query runs on every side in rotating order, after one untimed warm-up query.

    python -m bench.retrieval [--passages 200000] [--queries 300] [--slow-queries 30]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.report import REPO, Result, at_least, at_most, finish, median, percentile

RANK_BM25_GOAL = 500.0
BM25S_GOAL = 1.5
TOP_K = 10


def shared_folder() -> Path:
    return Path(os.environ.get("SDRL_SHARED", REPO.parent / "shared"))


def medquad_texts() -> tuple[list[str], list[str]] | None:
    """(answers, questions) from the shared MedQuAD file, or None when it is not there."""
    path = shared_folder() / "data" / "corpus-medquad" / "medquad_qa.jsonl"
    if not path.is_file():
        return None
    answers, questions = [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            answers.append(str(record.get("answer") or ""))
            questions.append(str(record.get("question") or ""))
    return answers, questions


def make_corpus(n: int, queries: int) -> tuple[list[str], list[str], str]:
    """n passages, query texts, and where they came from (deterministic)."""
    from engine.corpus.chunking import chunk_text

    found = medquad_texts()
    rng = random.Random(0)
    if found is None:
        return (
            *_zipf_corpus(n, queries, rng),
            "generated Zipf-vocabulary passages (no shared data)",
        )
    answers, questions = found
    base = [p for a in answers for p in chunk_text(a, 500, 50)]
    vocabulary = sorted({w for p in base[:5000] for w in p.split()})
    passages = base[:n]
    copy = 1
    while len(passages) < n:
        for text in base:
            if len(passages) >= n:
                break
            words = text.split()
            for i in range(copy % 4, len(words), 4):  # a different quarter of the words per copy
                words[i] = rng.choice(vocabulary)
            passages.append(" ".join(words))
        copy += 1
    picked = rng.sample(range(len(questions)), min(queries, len(questions)))
    return (
        passages,
        [questions[i] for i in picked],
        f"MedQuAD answers in 500-char passages ({len(base):,} distinct), repeated with a quarter of the words swapped",
    )


def _zipf_corpus(n: int, queries: int, rng: random.Random) -> tuple[list[str], list[str]]:
    vocabulary = [f"w{i:x}" for i in range(30_000)]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    cumulative: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    passages = [" ".join(rng.choices(vocabulary, cum_weights=cumulative, k=80)) for _ in range(n)]
    qs = [" ".join(rng.choices(vocabulary[100:5000], k=5)) for _ in range(queries)]
    return passages, qs


def _tokens(text: str) -> list[str]:
    return text.lower().split()


def run(
    quick: bool = False,
    passages: int = 200_000,
    queries: int | None = None,
    slow_queries: int | None = None,
) -> list[Result]:
    import bm25s
    from rank_bm25 import BM25Okapi

    from engine.corpus import PassageIndex, ingest, search
    from engine.workspace import init_workspace

    queries = queries or (100 if quick else 300)
    slow_queries = min(queries, slow_queries or (10 if quick else 30))
    texts, query_texts, origin = make_corpus(passages, queries)
    build: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws", "blank")
        corpus_file = Path(tmp) / "passages.jsonl"
        with open(corpus_file, "w", encoding="utf-8") as fh:
            for text in texts:
                fh.write(json.dumps({"text": text}) + "\n")
        start = time.perf_counter()
        results = ingest(ws.store, ws.index_dir, [corpus_file], jsonl_field="text")
        build["ours"] = time.perf_counter() - start
        indexed = sum(r.passages for r in results)
        if indexed != len(texts):
            raise RuntimeError(f"ingest stored {indexed} passages of {len(texts)}: {results}")

        start = time.perf_counter()
        rank = BM25Okapi([_tokens(t) for t in texts])
        build["rank_bm25"] = time.perf_counter() - start

        start = time.perf_counter()
        retriever = bm25s.BM25()
        retriever.index(
            bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False
        )
        build["bm25s"] = time.perf_counter() - start

        kept_open = PassageIndex(ws.index_dir, ws.store)
        sides: dict[str, Callable[[str], Any]] = {
            "ours": lambda q: search(ws.store, ws.index_dir, q, TOP_K),
            # not a product path: what `search` would cost if it did not open the index per call
            "ours_open": lambda q: kept_open.search_ids(q, TOP_K),
            "rank_bm25": lambda q: rank.get_top_n(_tokens(q), texts, n=TOP_K),
            "bm25s": lambda q: retriever.retrieve(
                bm25s.tokenize([q], stopwords="en", show_progress=False),
                corpus=texts,
                k=TOP_K,
                show_progress=False,
            ),
        }
        for side in sides.values():
            side("warm up the caches")
        latency: dict[str, list[float]] = {name: [] for name in sides}
        empty = 0
        for i, q in enumerate(query_texts):
            names = list(sides) if i < slow_queries else ["ours", "ours_open", "bm25s"]
            names = names[i % len(names) :] + names[: i % len(names)]  # rotate who goes first
            for name in names:
                start = time.perf_counter()
                hits = sides[name](q)
                latency[name].append(time.perf_counter() - start)
                if name == "ours" and not hits:
                    empty += 1
        ws.close()

    def ms(values: list[float], q: float = 50) -> float:
        return 1000 * percentile(values, q)

    versus_rank = [r / o for r, o in zip(latency["rank_bm25"], latency["ours"], strict=False)]
    versus_bm25s = [o / b for o, b in zip(latency["ours"], latency["bm25s"], strict=True)]
    speedup = median(latency["rank_bm25"]) / median(latency["ours"])
    to_bm25s = median(latency["ours"]) / median(latency["bm25s"])
    setting = (
        f"{len(texts):,} passages ({origin}); top {TOP_K} with texts; "
        f"{len(latency['ours'])} queries for ours and bm25s, the first {slow_queries} also for rank_bm25 "
        f"(MedQuAD questions when present); ours found nothing for {empty}"
    )
    quartiles = lambda xs: f"per-query p10-p90 {percentile(xs, 10):.3g}-{percentile(xs, 90):.3g}"  # noqa: E731
    return [
        Result(
            "retrieval",
            "median query latency vs rank_bm25 (x faster)",
            f"{ms(latency['ours']):.2f} ms",
            f"{ms(latency['rank_bm25']):.0f} ms",
            speedup,
            f">= {RANK_BM25_GOAL:g}x faster",
            at_least(speedup, RANK_BM25_GOAL),
            quartiles(versus_rank),
            setting,
            {"latency_s": latency, "build_s": build},
        ),
        Result(
            "retrieval",
            "median query latency vs bm25s",
            f"{ms(latency['ours']):.2f} ms",
            f"{ms(latency['bm25s']):.2f} ms",
            to_bm25s,
            f"<= {BM25S_GOAL}",
            at_most(to_bm25s, BM25S_GOAL),
            quartiles(versus_bm25s),
        ),
        Result(
            "retrieval",
            "median latency, index kept open, ids only (not a product path; no goal)",
            f"{ms(latency['ours_open']):.2f} ms",
            f"{ms(latency['rank_bm25']):.0f} ms (rank_bm25)",
            median(latency["rank_bm25"]) / median(latency["ours_open"]),
            note="PassageIndex.search_ids on one open index: the share of `search` spent opening the "
            "tantivy index and reading its state file on every call",
        ),
        Result(
            "retrieval",
            "p95 query latency vs bm25s (no goal)",
            f"{ms(latency['ours'], 95):.2f} ms",
            f"{ms(latency['bm25s'], 95):.2f} ms",
            percentile(latency["ours"], 95) / percentile(latency["bm25s"], 95),
            note=f"rank_bm25 p95 {ms(latency['rank_bm25'], 95):.0f} ms",
        ),
        Result(
            "retrieval",
            "index build time vs bm25s (no goal)",
            f"{build['ours']:.1f} s",
            f"{build['bm25s']:.1f} s",
            build["ours"] / build["bm25s"],
            note=f"rank_bm25 {build['rank_bm25']:.1f} s; ours also stores every passage in SQLite",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--passages", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=None)
    parser.add_argument(
        "--slow-queries", type=int, default=None, help="queries also run on rank_bm25"
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=None, help="also write the rows here (JSON)")
    args = parser.parse_args()
    finish(run(args.quick, args.passages, args.queries, args.slow_queries), args.out)


if __name__ == "__main__":
    main()

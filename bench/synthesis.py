"""Benchmark: generated tokens/s of raw llama-cpp-python vs our generate stage (same model, prompts, seeds, grammar),
and the time to the first previewed token once the model is loaded. Run: python bench/synthesis.py [-n 4]."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=4, help="samples per side")
    parser.add_argument(
        "--max-tokens", type=int, default=None, help="override generation.max_tokens"
    )
    args = parser.parse_args()

    from engine.backends.instructor import get_instructor
    from engine.events import Token
    from engine.stages import StageContext, run_blocking
    from engine.stages.generate import (
        _slot_seed,
        generation_messages,
        iter_generate_samples,
        iter_prepare,
    )
    from engine.stages.preview import iter_preview
    from engine.stages.retrieval import stored_order
    from engine.stages.synthesis_common import generation_schema
    from engine.workspace import init_workspace

    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws", "demo")
        if args.max_tokens:
            ws.task_file.write_text(
                ws.task_file.read_text().replace(
                    "max_tokens = 256\n", f"max_tokens = {args.max_tokens}\n", 1
                )
            )
        ctx = StageContext.open(ws)
        t0 = time.perf_counter()
        instructor: Any = get_instructor(ctx.task)
        llama = instructor.llama
        print(
            f"model loaded in {time.perf_counter() - t0:.2f} s ({instructor.ref.path.name}, {llama.n_ctx()} ctx)"
        )
        run_blocking(iter_prepare(ctx))
        gen = ctx.task.generation
        order = stored_order(ctx) or []
        texts = {r["id"]: r["text"] for r in ws.store.query("SELECT id, text FROM passages")}
        prompts = [generation_messages(ctx, texts[order[i % len(order)]]) for i in range(args.n)]
        grammar = instructor._grammar(generation_schema(ctx.task))

        def count(text: str) -> int:
            return len(llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

        def raw_pass() -> tuple[int, float]:
            """Raw llama-cpp-python: the same prompts, seeds, grammar and sampling settings."""
            tokens, start = 0, time.perf_counter()
            for i, messages in enumerate(prompts):
                reply = llama.create_chat_completion(
                    messages=messages,
                    temperature=gen.temperature,
                    max_tokens=gen.max_tokens,
                    seed=_slot_seed(gen.seed, i, 0),
                    grammar=grammar,
                    repeat_penalty=1.1,
                )
                tokens += count(reply["choices"][0]["message"]["content"] or "")
            return tokens, time.perf_counter() - start

        raw_tokens, raw_time = raw_pass()

        # our stage, end to end (parsing, store transactions, events), counting what the instructor wrote
        replies: list[str] = []
        chat = instructor.chat

        def counting_chat(*a: Any, **kw: Any) -> str:
            out = chat(*a, **kw)
            replies.append(out)
            return str(out)

        instructor.chat = counting_chat
        t = time.perf_counter()
        finished = run_blocking(iter_generate_samples(ctx, n=args.n))
        ours_rate = sum(count(r) for r in replies) / (time.perf_counter() - t)
        instructor.chat = chat
        more_tokens, more_time = (
            raw_pass()
        )  # raw again after ours, so cache and load effects fall on both sides
        raw_tokens += more_tokens
        raw_rate = raw_tokens / (raw_time + more_time)

        print(
            f"raw llama-cpp-python: {raw_rate:6.1f} generated tok/s ({raw_tokens} tokens, 2 x {args.n} samples)"
        )
        print(
            f"sdrl generate stage:  {ours_rate:6.1f} generated tok/s ({len(replies)} calls; {json.dumps(finished.counts if finished else {})})"
        )
        print(f"ratio ours/raw: {ours_rate / raw_rate:.2f}  (goal >= 0.9)")

        # first previewed token: each preview reads a new passage; the shared prompt prefix (system
        # text, task) is in the KV cache after the first one, as it is in the studio after one preview
        llama.reset()
        firsts = []
        for seed in (101, 202, 303, 404):
            t = time.perf_counter()
            for event in iter_preview(ctx, 1, seed=seed, ingest=False):
                if isinstance(event, Token):
                    firsts.append(time.perf_counter() - t)
                    break
        cold, warm = firsts[0], sorted(firsts[1:])[len(firsts[1:]) // 2]
        chars = ctx.task.generation.preview_passage_chars
        print(f"time to first previewed token, first preview after load: {cold:.2f} s")
        print(
            f"time to first previewed token, median of next 3 (new passage each, {chars}-char passages): {warm:.2f} s  (goal < 1 s)"
        )
        ws.close()


if __name__ == "__main__":
    main()

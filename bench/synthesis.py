"""Synthesis: our generate stage vs raw llama-cpp-python on the same model, prompts, seeds and grammar.

Per sample, alternating which side goes first, each side starts from an empty KV cache and writes one
first attempt (the stage is stopped after its first item; a failed slot is not retried). Our timer
covers the whole stage call: store queries, prompt building, the instructor call, parsing and the
transaction. llama.cpp's own counters give the prompt-reading time; decode rate = tokens decoded /
(wall time - prompt-reading time), so every bit of our overhead counts against our decode rate.

    python -m bench.synthesis [--samples 3] [--max-tokens 256]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import Result, at_least, finish, median, spread

DECODE_GOAL = 0.95
PREVIEW_GOAL_S = 1.0


class Counters:
    """llama.cpp's per-context counters: prompt tokens and ms, decoded tokens and ms since the last reset."""

    def __init__(self, llama: Any) -> None:
        import llama_cpp

        self._lib = llama_cpp
        self._ctx = llama._ctx.ctx

    def reset(self) -> None:
        self._lib.llama_perf_context_reset(self._ctx)

    def read(self) -> tuple[int, float, int, float]:
        data = self._lib.llama_perf_context(self._ctx)
        return int(data.n_p_eval), data.t_p_eval_ms / 1000, int(data.n_eval), data.t_eval_ms / 1000


def _timed(llama: Any, counters: Counters, call: Any, slot: int) -> dict[str, float]:
    llama.reset()  # an empty KV cache: the prompt is read in full, as on the other side
    counters.reset()
    start = time.perf_counter()
    call(slot)
    wall = time.perf_counter() - start
    n_prompt, prompt_s, n_decoded, _ = counters.read()
    return {
        "wall": wall,
        "prompt_tokens": n_prompt,
        "prompt_s": prompt_s,
        "decoded": n_decoded,
        "decode_s": max(wall - prompt_s, 1e-9),
    }


def run(
    quick: bool = False, samples: int | None = None, max_tokens: int | None = None
) -> list[Result]:
    import tomllib

    import tomli_w

    from engine.backends.instructor import get_instructor
    from engine.backends.llamacpp_instructor import REPEAT_PENALTY
    from engine.events import ItemDone, ItemFailed
    from engine.seeds import derive_seed
    from engine.stages import StageContext, run_blocking
    from engine.stages.generate import (
        MAX_ATTEMPTS,
        generation_messages,
        iter_generate_samples,
        iter_prepare,
    )
    from engine.stages.generate import STAGE as GENERATE
    from engine.stages.retrieval import stored_order
    from engine.stages.synthesis_common import generation_schema, record_failure
    from engine.workspace import init_workspace

    n = samples or (4 if quick else 12)
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws", "demo")
        if max_tokens:
            data = tomllib.loads(ws.task_file.read_text(encoding="utf-8"))
            data["generation"]["max_tokens"] = max_tokens
            ws.task_file.write_text(tomli_w.dumps(data), encoding="utf-8")
        stop_after_item = [False]
        ctx = StageContext.open(ws, should_stop=lambda: stop_after_item[0])
        instructor: Any = get_instructor(ctx.task)
        llama = instructor.llama
        counters = Counters(llama)
        run_blocking(iter_prepare(ctx))  # keywords, retrieval, pattern: what the stage reads
        gen = ctx.task.generation
        schema = generation_schema(ctx.task)
        instructor._grammar(schema)  # both sides start with the grammar compiled

        from llama_cpp import LlamaGrammar

        raw_grammar = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
        order = stored_order(ctx) or []
        texts = {r["id"]: r["text"] for r in ws.store.query("SELECT id, text FROM passages")}

        def raw(slot: int) -> None:
            passage = texts.get(order[slot % len(order)], "") if order else ""
            llama.create_chat_completion(
                messages=generation_messages(ctx, passage),
                temperature=gen.temperature,
                max_tokens=gen.max_tokens,
                seed=derive_seed(gen.seed, GENERATE, slot, 0),  # the stage's first-attempt seed
                grammar=raw_grammar,
                repeat_penalty=REPEAT_PENALTY,
            )

        outcomes: list[str] = []

        def ours(slot: int) -> None:
            stop_after_item[0] = False
            for event in iter_generate_samples(ctx, n=slot + 1):
                if isinstance(event, ItemDone | ItemFailed):
                    stop_after_item[0] = (
                        True  # one first attempt; the stage stops before the next item
                    )
                    outcomes.append("ok" if isinstance(event, ItemDone) else "failed")

        per_side: dict[str, list[dict[str, float]]] = {"raw": [], "ours": []}
        for slot in range(n):
            sides = ("raw", "ours") if slot % 2 == 0 else ("ours", "raw")
            for side in sides:
                call = raw if side == "raw" else ours
                per_side[side].append(_timed(llama, counters, call, slot))
            if outcomes and outcomes[-1] == "failed":
                with ws.store.transaction() as conn:  # the slot is given up: first attempts only
                    for extra in range(1, MAX_ATTEMPTS):
                        record_failure(
                            conn, ctx.revision.id, GENERATE, f"initial:{slot}#bench{extra}", "bench"
                        )
        preview = None if quick else _first_preview(StageContext.open(ws), llama)
        ws.close()

    def rate(rows: list[dict[str, float]], tokens: str, seconds: str) -> float:
        return sum(r[tokens] for r in rows) / sum(r[seconds] for r in rows)

    decode_ratios = [
        (o["decoded"] / o["decode_s"]) / (r["decoded"] / r["decode_s"])
        for o, r in zip(per_side["ours"], per_side["raw"], strict=True)
        if o["decoded"] and r["decoded"]
    ]
    prompt_ratios = [
        (o["prompt_tokens"] / o["prompt_s"]) / (r["prompt_tokens"] / r["prompt_s"])
        for o, r in zip(per_side["ours"], per_side["raw"], strict=True)
        if o["prompt_s"] and r["prompt_s"]
    ]
    same = sum(
        o["decoded"] == r["decoded"] for o, r in zip(per_side["ours"], per_side["raw"], strict=True)
    )
    decode_ratio = median(decode_ratios) if decode_ratios else 0.0
    common = (
        f"{n} samples, max_tokens {gen.max_tokens}, KV cache emptied before every call, "
        f"order alternating; first attempts {outcomes.count('ok')} parsed, {outcomes.count('failed')} failed; "
        f"both sides decoded the same number of tokens in {same} of {n}"
    )
    results = [
        Result(
            "synthesis",
            "decode rate, generate stage vs raw llama-cpp-python (median of per-sample ratios)",
            f"{rate(per_side['ours'], 'decoded', 'decode_s'):.1f} tok/s",
            f"{rate(per_side['raw'], 'decoded', 'decode_s'):.1f} tok/s",
            decode_ratio,
            f">= {DECODE_GOAL}",
            at_least(decode_ratio, DECODE_GOAL),
            spread(decode_ratios, unit="samples") if len(decode_ratios) > 1 else "",
            common
            + "; decode time = wall - llama.cpp prompt time, so our stage's overhead counts here",
            {"per_sample": per_side},
        ),
        Result(
            "synthesis",
            "prompt reading rate (no goal; same llama.cpp call)",
            f"{rate(per_side['ours'], 'prompt_tokens', 'prompt_s'):.0f} tok/s",
            f"{rate(per_side['raw'], 'prompt_tokens', 'prompt_s'):.0f} tok/s",
            median(prompt_ratios) if prompt_ratios else None,
            spread=spread(prompt_ratios, unit="samples") if len(prompt_ratios) > 1 else "",
        ),
    ]
    if preview is not None:
        cold, warm = preview
        results.append(
            Result(
                "synthesis",
                "first previewed token, median of 3 after the first (model loaded)",
                f"{warm:.2f} s",
                goal=f"< {PREVIEW_GOAL_S:g} s",
                met=warm < PREVIEW_GOAL_S,
                note=f"first preview after load: {cold:.2f} s; each preview reads a new passage, "
                "the shared prompt prefix is cached as in the studio",
            )
        )
    return results


def _first_preview(ctx: Any, llama: Any) -> tuple[float, float]:
    """Seconds to the first streamed token: the first preview after an emptied cache, and the median of the next 3."""
    from engine.events import Token
    from engine.stages.preview import iter_preview

    llama.reset()
    firsts = []
    for seed in (101, 202, 303, 404):
        start = time.perf_counter()
        for event in iter_preview(ctx, 1, seed=seed, ingest=False):
            if isinstance(event, Token):
                firsts.append(time.perf_counter() - start)
                break
    return firsts[0], median(firsts[1:])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--samples", type=int, default=None, help="samples per side (default 12; --quick 4)"
    )
    parser.add_argument(
        "--max-tokens", type=int, default=None, help="override generation.max_tokens"
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=None, help="also write the rows here (JSON)")
    args = parser.parse_args()
    finish(run(args.quick, args.samples, args.max_tokens), args.out)


if __name__ == "__main__":
    main()

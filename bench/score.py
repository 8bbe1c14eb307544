"""Scoring: rollouts/s of our score stage (transformers and llama.cpp backends) vs HF `generate` as people use it.

The baseline is one `model.generate(num_return_sequences=k)` call per prompt on the same model object,
with the same sampling processor (temperature + exact top-p), end-of-sequence ids and stop strings as
our transformers backend. k = 8 answers of up to 256 new tokens per question, as a user runs it. Our
timer covers the whole stage call (pool query, prompts, generation, answer checks, transactions).
Each round scores new questions on every side, rotating which side goes first.

    python -m bench.score [--rounds 3] [--prompts 8] [-k 8] [--max-tokens 256]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import Result, at_least, finish, spread

GOAL = 1.5
QUESTIONS = [
    "A baker makes 3 trays of 12 muffins and sells 20 of them. How many muffins are left?",
    "Tom has 5 apples and buys 3 more. How many apples does he have now?",
    "A bus ticket costs $2. How much do 4 tickets cost?",
    "Mia saves $3 a week for 6 weeks and spends $7. How much money does she have left?",
    "A train leaves at 9:00 and the trip takes 45 minutes. At what minute past 9 does it arrive?",
    "A recipe needs 2 eggs per cake. How many eggs are needed for 5 cakes?",
    "There are 24 pupils in a class, split into groups of 4. How many groups are there?",
    "A shop sells pens at $1.50 each. How much do 6 pens cost?",
]


def question(i: int) -> str:
    q = QUESTIONS[i % len(QUESTIONS)]
    return q if i < len(QUESTIONS) else f"{q} (variant {i // len(QUESTIONS)})"


def scoring_workspace(root: Path, backend: str, k: int, max_tokens: int) -> Any:
    import tomllib

    import tomli_w

    from engine.stages import StageContext
    from engine.workspace import init_workspace

    ws = init_workspace(root, "demo")
    data = tomllib.loads(ws.task_file.read_text(encoding="utf-8"))
    data["scoring"].update(k=k, max_tokens=max_tokens)
    data["models"]["solver_backend"] = backend
    ws.task_file.write_text(tomli_w.dumps(data), encoding="utf-8")
    return StageContext.open(ws)


def add_questions(ctx: Any, numbers: range) -> None:
    """Labelled samples, as the label stage leaves them (the stage scores those not yet scored)."""
    from engine.pool import NewSample, insert_sample

    with ctx.store.transaction() as conn:
        for i in numbers:
            sample = NewSample(
                "initial", f"initial:{i}", question(i), label="1", agreement=1.0, status="labelled"
            )
            insert_sample(conn, ctx.revision.id, sample)


def time_stage(ctx: Any, solver: Any) -> tuple[float, int]:
    from engine.stages import run_blocking
    from engine.stages.score import iter_score

    start = time.perf_counter()
    finished = run_blocking(iter_score(ctx, solver=solver))
    elapsed = time.perf_counter() - start
    return elapsed, int(finished.counts["rollouts"]) if finished else 0


def time_baseline(
    solver: Any, prompts: list[str], k: int, settings: Any, seed: int
) -> tuple[float, list[str]]:
    """One generate(num_return_sequences=k) per prompt, same processor, eos ids and stop strings as our backend."""
    import torch
    from transformers import LogitsProcessorList

    from engine.backends.hf_sampling import nucleus_processor
    from engine.backends.hf_solver import cut_at_stop

    model, tokenizer = solver.model, solver.tokenizer
    texts: list[str] = []
    start = time.perf_counter()
    with torch.inference_mode():
        for i, prompt in enumerate(prompts):
            torch.manual_seed(seed + i)
            enc = tokenizer([prompt], return_tensors="pt").to(model.device)
            output = model.generate(
                **enc,
                do_sample=True,
                num_return_sequences=k,
                max_new_tokens=settings.max_tokens,
                eos_token_id=solver.eos_ids,
                pad_token_id=tokenizer.pad_token_id,
                temperature=1.0,
                top_p=1.0,
                top_k=0,
                logits_processor=LogitsProcessorList(
                    [nucleus_processor(settings.temperature, settings.top_p)]
                ),
                stop_strings=list(solver.stop) or None,
                tokenizer=tokenizer if solver.stop else None,
            )
            new = tokenizer.batch_decode(
                output[:, enc["input_ids"].shape[1] :], skip_special_tokens=True
            )
            texts += [cut_at_stop(t, solver.stop, prompt) for t in new]
    return time.perf_counter() - start, texts


def run(
    quick: bool = False,
    rounds: int | None = None,
    prompts: int | None = None,
    k: int = 8,
    max_tokens: int = 256,
) -> list[Result]:
    from engine.backends.solver import get_solver, solve_prompts

    rounds = rounds or 3
    per_round = prompts or (1 if quick else 8)
    with tempfile.TemporaryDirectory() as tmp:
        contexts = {
            name: scoring_workspace(Path(tmp) / name, backend, k, max_tokens)
            for name, backend in (("transformers", "transformers"), ("llamacpp", "llamacpp"))
        }
        solvers: dict[str, Any] = {name: get_solver(c.task) for name, c in contexts.items()}
        hf = solvers["transformers"]
        task = contexts["transformers"].task
        for solver in solvers.values():  # both backends loaded and run once before any timer
            solver.generate(solve_prompts(task, [question(0)], solver), n=1, max_tokens=2)
        seconds: dict[str, list[float]] = {"transformers": [], "llamacpp": [], "baseline": []}
        counts: dict[str, list[int]] = {name: [] for name in seconds}
        texts: dict[str, list[str]] = {name: [] for name in seconds}
        sides = list(seconds)
        for r in range(rounds):
            numbers = range(r * per_round, (r + 1) * per_round)
            for ctx in contexts.values():
                add_questions(ctx, numbers)
            for name in sides[r % 3 :] + sides[: r % 3]:
                if name == "baseline":
                    prompt_texts = solve_prompts(task, [question(i) for i in numbers], hf)
                    elapsed, outs = time_baseline(hf, prompt_texts, k, task.scoring, 1000 * r)
                    n = len(outs)
                    texts[name] += outs
                else:
                    if name == "llamacpp":
                        solvers[
                            name
                        ].llm.reset()  # no prompt left in the KV cache from the last round
                    elapsed, n = time_stage(contexts[name], solvers[name])
                seconds[name].append(elapsed)
                counts[name].append(n)
        for name, ctx in contexts.items():
            texts[name] = [
                r["text"]
                for r in ctx.store.query("SELECT text FROM rollouts ORDER BY sample_id, idx")
            ]
        tokens = {
            name: sum(len(hf.tokenizer(t)["input_ids"]) for t in outs) / max(1, len(outs))
            for name, outs in texts.items()
        }
        for solver in solvers.values():
            solver.close()
        for ctx in contexts.values():
            ctx.workspace.close()

    rate = {name: sum(counts[name]) / sum(seconds[name]) for name in seconds}
    per_round_rate = {
        name: [c / s for c, s in zip(counts[name], seconds[name], strict=True)] for name in seconds
    }
    fastest = max(("transformers", "llamacpp"), key=lambda name: rate[name])
    setting = (
        f"gemma3-270m (bundled), k={k}, up to {max_tokens} new tokens, {rounds} rounds x {per_round} questions"
        + (
            " (quick: fewer questions, same lengths; with one question per round the transformers "
            "stage cannot batch across questions)"
            if quick
            else ""
        )
        + f"; mean tokens per rollout: transformers {tokens['transformers']:.0f}, "
        f"llama.cpp {tokens['llamacpp']:.0f}, baseline {tokens['baseline']:.0f}"
    )
    rows = []
    for name in (fastest, *(n for n in ("transformers", "llamacpp") if n != fastest)):
        ratios = [
            o / b for o, b in zip(per_round_rate[name], per_round_rate["baseline"], strict=True)
        ]
        ratio = rate[name] / rate["baseline"]
        is_goal = name == fastest
        rows.append(
            Result(
                "score",
                f"rollouts/s, {'fastest CPU backend: ' if is_goal else ''}{name} stage vs HF generate(num_return_sequences=k)"
                + ("" if is_goal else " (no goal)"),
                f"{rate[name]:.2f}/s",
                f"{rate['baseline']:.2f}/s",
                ratio,
                f">= {GOAL}" if is_goal else "-",
                at_least(ratio, GOAL) if is_goal else None,
                spread(ratios),
                setting if is_goal else "",
                {"seconds": seconds, "rollouts": counts, "mean_tokens": tokens},
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--prompts", type=int, default=None, help="questions per round")
    parser.add_argument("-k", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=None, help="also write the rows here (JSON)")
    args = parser.parse_args()
    finish(run(args.quick, args.rounds, args.prompts, args.k, args.max_tokens), args.out)


if __name__ == "__main__":
    main()

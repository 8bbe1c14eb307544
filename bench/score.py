"""Benchmark: rollouts/s of our scoring stage vs one-at-a-time HF `generate` on the same model, prompts and k.

    .venv/bin/python bench/score.py [--samples 4] [-k 8] [--max-tokens 32]

Prints both rates and their ratio (goal >= 3 on CPU). With a CUDA GPU and vLLM installed it also
times the vLLM solver against the same one-at-a-time baseline (goal >= 10).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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


def workspace_with_samples(root: Path, n: int, k: int, max_tokens: int, batch: int, backend: str):
    import tomllib

    import tomli_w

    from engine.stages import StageContext
    from engine.workspace import init_workspace

    root.mkdir(parents=True, exist_ok=True)
    ws = init_workspace(root / "ws", "demo")
    data = tomllib.loads(ws.task_file.read_text())
    data["scoring"].update(k=k, max_tokens=max_tokens, batch_size=batch)
    data["models"]["solver_backend"] = backend
    ws.task_file.write_text(tomli_w.dumps(data))
    ctx = StageContext.open(ws)
    with ws.store.transaction() as conn:
        for i in range(n):
            q = QUESTIONS[i % len(QUESTIONS)] + (
                f" (variant {i // len(QUESTIONS)})" if i >= len(QUESTIONS) else ""
            )
            conn.execute(
                "INSERT INTO samples(revision_id, origin, round, slot_key, question, label, agreement, status, content_hash, created_at) "
                "VALUES (?, 'initial', 0, ?, ?, '1', 1.0, 'labelled', ?, ?)",
                (ctx.revision.id, f"initial:{i}", q, f"h{i}", time.time()),
            )
    return ws, ctx


def time_stage(ctx, solver, k: int) -> tuple[float, int]:
    from engine.stages import run_blocking
    from engine.stages.score import iter_score

    start = time.perf_counter()
    finished = run_blocking(iter_score(ctx, k, solver=solver))
    elapsed = time.perf_counter() - start
    return elapsed, int(finished.counts["rollouts"]) if finished else 0


def time_one_at_a_time(
    model,
    tokenizer,
    prompts: list[str],
    k: int,
    temperature: float,
    top_p: float,
    max_tokens: int,
    stop: tuple[str, ...],
) -> tuple[float, int]:
    """The naive loop: one prompt, one sequence per `generate` call, same sampling and stopping."""
    import torch

    device = next(model.parameters()).device
    start = time.perf_counter()
    count = 0
    with torch.inference_mode():
        for prompt in prompts:
            enc = tokenizer([prompt], return_tensors="pt").to(device)
            for _ in range(k):
                model.generate(
                    **enc,
                    do_sample=True,
                    temperature=temperature,
                    top_p=top_p,
                    top_k=0,
                    max_new_tokens=max_tokens,
                    stop_strings=list(stop) or None,
                    tokenizer=tokenizer,
                    pad_token_id=tokenizer.pad_token_id,
                )
                count += 1
    return time.perf_counter() - start, count


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("-k", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument(
        "--batch", type=int, default=4, help="samples per generate call in our stage"
    )
    args = parser.parse_args()

    import torch

    from engine.backends.solver import get_solver, solve_prompts

    with tempfile.TemporaryDirectory() as tmp:
        ws, ctx = workspace_with_samples(
            Path(tmp), args.samples, args.k, args.max_tokens, args.batch, "transformers"
        )
        solver: Any = get_solver(ctx.task)
        prompts = solve_prompts(
            ctx.task,
            [r["question"] for r in ws.store.query("SELECT question FROM samples ORDER BY id")],
            solver,
        )
        s = ctx.task.scoring
        solver.generate(prompts[:1], n=1, max_tokens=2)  # warm-up
        ours_s, ours_n = time_stage(ctx, solver, args.k)
        base_s, base_n = time_one_at_a_time(
            solver.model,
            solver.tokenizer,
            prompts,
            args.k,
            s.temperature,
            s.top_p,
            args.max_tokens,
            solver.stop,
        )
        ours, base = ours_n / ours_s, base_n / base_s
        device = "GPU" if torch.cuda.is_available() else "CPU"
        print(
            f"device {device}; {args.samples} samples x k={args.k}, max_tokens={args.max_tokens}, "
            f"{args.batch} samples per generate call"
        )
        print(
            f"scoring stage (transformers, batched): {ours:.2f} rollouts/s ({ours_n} in {ours_s:.1f}s)"
        )
        print(
            f"one-at-a-time HF generate:              {base:.2f} rollouts/s ({base_n} in {base_s:.1f}s)"
        )
        print(f"ratio: {ours / base:.2f}x (goal >= 3 on CPU)")
        solver.close()
        ws.close()
        if torch.cuda.is_available():
            _vllm(args, tmp, base)


def _vllm(args: argparse.Namespace, tmp: str, hf_rate: float) -> None:
    try:
        import vllm  # noqa: F401
    except ImportError:
        print("vLLM: not installed, skipped (pip install 'sdrl-studio[gpu]')")
        return
    from engine.backends.solver import get_solver

    ws, ctx = workspace_with_samples(
        Path(tmp) / "vllm", args.samples, args.k, args.max_tokens, args.samples, "vllm"
    )
    solver = get_solver(ctx.task)
    vllm_s, vllm_n = time_stage(ctx, solver, args.k)
    rate = vllm_n / vllm_s
    print(f"scoring stage (vLLM): {rate:.2f} rollouts/s ({vllm_n} in {vllm_s:.1f}s)")
    print(f"ratio vLLM / one-at-a-time HF: {rate / hf_rate:.2f}x (goal >= 10)")
    solver.close()
    ws.close()


if __name__ == "__main__":
    main()

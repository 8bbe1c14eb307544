"""The doctor's child process: load one model in one engine and generate a few tokens from a prompt of many.

Run as `python -m engine.doctor_probe ENGINE MODEL [--threads N]`; the last stdout line is a JSON
report. Native code that crashes (an illegal instruction, the out-of-memory killer) takes down
this process only; the doctor names the signal it died by (engine.crash).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from engine.errors import ModelError, SdrlError
from engine.faults import inject

ENGINES = ("llamacpp", "transformers")
PROMPT = (
    "Question: A baker makes 24 rolls in the morning and 18 rolls in the afternoon. "
    "How many rolls does she make in all?\nAnswer:"
)
"""Longer than one token on purpose: a prompt is read in one batched matrix multiply, the code path
that crashed on CPUs whose advertised instructions (AMX) the hypervisor had not enabled."""
NEW_TOKENS = 4


def probe_llamacpp(spec: str, threads: int | None) -> str:
    from engine.backends.llamacpp_solver import LlamaCppSolver
    from engine.models import resolve_model

    ref = resolve_model(spec)
    solver = LlamaCppSolver(ref, n_ctx=256, threads=threads)
    try:
        reply: Any = solver.llm.create_completion(PROMPT, max_tokens=NEW_TOKENS, temperature=0.0)
    finally:
        solver.close()
    usage = reply["usage"]
    return _said(
        ref.path.name,
        usage["prompt_tokens"],
        usage["completion_tokens"],
        reply["choices"][0]["text"],
    )


def probe_transformers(spec: str, threads: int | None) -> str:
    from engine.backends.hf_solver import HFSolver
    from engine.models import resolve_model

    ref = resolve_model(spec)
    solver = HFSolver(ref, threads=threads)
    try:
        prompt_tokens = len(solver.tokenizer(PROMPT)["input_ids"])
        text = solver.generate([PROMPT], max_tokens=NEW_TOKENS)[0][0]
        new_tokens = len(solver.tokenizer(text, add_special_tokens=False)["input_ids"])
    finally:
        solver.close()
    return _said(f"{ref.path.name} on {solver.device}", prompt_tokens, new_tokens, text)


def _said(what: str, prompt_tokens: int, new_tokens: int, text: str) -> str:
    if prompt_tokens <= 10:
        raise ModelError(
            f"the probe prompt came to {prompt_tokens} tokens; a multi-token prompt was meant",
            "report this: the doctor's probe no longer exercises batched prompt reading",
        )
    return f"{what}: read {prompt_tokens} tokens, wrote {new_tokens}: {text!r}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.doctor_probe")
    parser.add_argument("engine", choices=ENGINES)
    parser.add_argument("model")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    inject("doctor-child")
    probe = probe_llamacpp if args.engine == "llamacpp" else probe_transformers
    try:
        report = {"ok": True, "detail": probe(args.model, args.threads)}
    except SdrlError as exc:
        report = {"ok": False, "title": exc.title, "hint": exc.hint}
    except MemoryError:
        report = {
            "ok": False,
            "title": f"{args.engine} ran out of memory loading {args.model}",
            "hint": "free memory or use a smaller model",
        }
    except Exception as exc:  # noqa: BLE001 - the doctor reports every failure of a model
        out_of_memory = "out of memory" in str(exc).lower()
        report = {
            "ok": False,
            "title": f"{type(exc).__name__}: {exc}",
            "hint": "free memory or use a smaller model" if out_of_memory else "",
        }
    print(json.dumps(report), flush=True)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""Stored evaluations: the list, the one pairing of base and adapter evals (CLI and studio), and item comparisons."""

from __future__ import annotations

from typing import Any

from engine.errors import RunError
from engine.store import Store


def evals(store: Store) -> list[dict[str, Any]]:
    """Every evaluation, in id order."""
    return [dict(r) for r in store.query("SELECT * FROM evals ORDER BY id")]


def eval_row(store: Store, eval_id: int) -> dict[str, Any]:
    rows = store.query("SELECT * FROM evals WHERE id=?", (eval_id,))
    if not rows:
        raise RunError(f"No evaluation {eval_id}", "see `sdrl eval list`")
    return dict(rows[0])


def pair_key(e: dict[str, Any]) -> tuple[str, str, int]:
    """What two evals must share to be compared item by item: benchmark, base model and item count."""
    return (str(e["benchmark"]), str(e["model"]), int(e["n"]))


def pair_evals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per benchmark, base model and item count: the newest base eval (no adapter) and the newest adapter eval.

    A 10-item base eval never sits beside a 100-item adapter eval: they land in two pairs, each half empty.
    """
    pairs: dict[tuple[str, str, int], dict[str, Any]] = {}
    for e in sorted(rows, key=lambda r: int(r["id"])):  # later ones replace earlier ones
        benchmark, model, n = pair_key(e)
        slot = pairs.setdefault(
            (benchmark, model, n),
            {"benchmark": benchmark, "model": model, "n": n, "base": None, "trained": None},
        )
        slot["trained" if e["adapter"] else "base"] = e
    return list(pairs.values())


def eval_pairs(store: Store) -> list[dict[str, Any]]:
    return pair_evals(evals(store))


def latest_pair(store: Store, benchmark: str | None = None) -> tuple[int, int]:
    """(base eval id, adapter eval id): the newest adapter eval (of `benchmark`) and its pair's base eval."""
    trained = [
        p
        for p in eval_pairs(store)
        if p["trained"] is not None and (benchmark is None or p["benchmark"] == benchmark)
    ]
    if not trained:
        raise RunError(
            "No adapter evaluation to compare",
            "run `sdrl eval run --benchmark FILE --run RUN` first",
        )
    newest = max(trained, key=lambda p: int(p["trained"]["id"]))
    if newest["base"] is None:
        raise RunError(
            f"No base-model evaluation of {newest['benchmark']} with {newest['n']} items",
            "run `sdrl eval run` on the same benchmark and --limit without --run",
        )
    return int(newest["base"]["id"]), int(newest["trained"]["id"])


def check_comparable(base: dict[str, Any], other: dict[str, Any]) -> None:
    """Refuse to compare evals of different benchmarks, models or item counts (ids given by hand)."""
    if pair_key(base) != pair_key(other):
        raise RunError(
            f"Evaluations {base['id']} and {other['id']} are not comparable: "
            f"{base['benchmark']} ({base['n']} items, {base['model']}) vs {other['benchmark']} ({other['n']} items, {other['model']})",
            "compare evals of the same benchmark, model and --limit (`sdrl eval list`)",
        )


def eval_comparison(store: Store, base_eval: int, trained_eval: int) -> dict[str, Any]:
    """Items matched by index: `n` compared, those the trained model `fixed` (base wrong, trained right) and `broke`."""
    check_comparable(eval_row(store, base_eval), eval_row(store, trained_eval))
    rows = store.query(
        "SELECT b.idx, b.question, b.gold, b.answer AS base_answer, t.answer AS trained_answer, "
        "b.correct AS base_correct, t.correct AS trained_correct FROM eval_items b "
        "JOIN eval_items t ON t.idx=b.idx AND t.eval_id=? WHERE b.eval_id=? ORDER BY b.idx",
        (trained_eval, base_eval),
    )
    fixed = [dict(r) for r in rows if not r["base_correct"] and r["trained_correct"]]
    broken = [dict(r) for r in rows if r["base_correct"] and not r["trained_correct"]]
    return {"n": len(rows), "fixed": fixed, "broken": broken}

"""Stage 9, high-potential selection: a rule over pass rates, user decisions first, a held-out validation split."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from typing import Any

from engine.errors import StageError
from engine.events import Event, Metric, StageFinished, StageStarted, StageWarning
from engine.selection import RULES, Candidate, check_band, select
from engine.stages import StageContext
from engine.stages.probe import require_pool

STAGE = "select"


def iter_select(
    ctx: StageContext,
    rule: str | None = None,
    m: int | None = None,
    band: Sequence[float] | None = None,
) -> Iterator[Event]:
    """Write a new `selections` row with its train/val items; nothing is written when the inputs are bad."""
    from engine.backends.solver import model_key
    from engine.stats import save_stats

    settings = ctx.task.selection
    rule = rule or settings.rule
    m = settings.m if m is None else m
    band = tuple(settings.band if band is None else band)
    if rule not in RULES:
        raise StageError(f"unknown selection rule {rule!r}", f"use one of: {', '.join(RULES)}")
    if m < 1:
        raise StageError(
            f"M = {m}: a selection needs at least one sample",
            "pass -m 1 or more (the paper used 500)",
        )
    try:
        lo, hi = check_band(band)
    except ValueError as exc:
        raise StageError(
            f"bad pass-rate band: {exc}",
            "pass --band LO HI with 0 <= LO <= HI <= 1, e.g. --band 0.1 0.9",
        ) from exc
    samples = require_pool(ctx)
    key = model_key(ctx.task)
    rates = {
        r["sample_id"]: r["pass_rate"]
        for r in ctx.store.query(
            "SELECT c.sample_id, c.pass_rate FROM scores c JOIN samples s ON s.id=c.sample_id WHERE s.revision_id=? AND c.model=?",
            (ctx.revision.id, key),
        )
    }
    low = ctx.task.generation.low_agreement
    doubtful = {
        s.id
        for s in samples
        if settings.drop_low_agreement
        and s.decision not in ("accept", "pin")
        and s.agreement is not None
        and s.agreement < low
    }
    candidates = [
        Candidate(s.id, rates.get(s.id), s.decision) for s in samples if s.id not in doubtful
    ]
    if not rates and not any(c.decision in ("accept", "pin") for c in candidates):
        raise StageError(
            f"No sample of revision {ctx.revision.id} has a pass rate for {key}",
            "run `sdrl score` first (or accept/pin samples to select them by hand)",
        )
    yield StageStarted(STAGE, total=len(candidates), detail={"rule": rule, "m": m})
    chosen = select(
        candidates,
        rule=rule,
        m=m,
        band=(lo, hi),
        validation_share=settings.validation_share,
        seed=settings.seed,
    )
    params: dict[str, Any] = {
        "m": m,
        "band": [lo, hi],
        "validation_share": settings.validation_share,
        "seed": settings.seed,
        "model": key,
        "dropped_low_agreement": len(doubtful),
    }
    with ctx.store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO selections(revision_id, rule, params, created_at) VALUES (?,?,?,?)",
            (ctx.revision.id, rule, json.dumps(params), time.time()),
        )
        sid = cur.lastrowid
        conn.executemany(
            "INSERT INTO selection_items(selection_id, sample_id, split, pass_rate) VALUES (?,?,?,?)",
            [(sid, c.sample_id, "train", c.pass_rate) for c in chosen.train]
            + [(sid, c.sample_id, "val", c.pass_rate) for c in chosen.val],
        )
    if not chosen.train:
        yield StageWarning(
            STAGE,
            message=f"rule {rule!r} selected no training samples",
            hint="score more samples (a larger -k spreads pass rates), or try --rule band/hard/all",
        )
    stats = save_stats(ctx.store, ctx.revision.id)
    spread = stats["selection"]["pass_rate"] if stats["selection"] else {}
    yield Metric(STAGE, name="selected", value=float(len(chosen.train)))
    yield Metric(STAGE, name="validation", value=float(len(chosen.val)))
    if spread.get("mean") is not None:
        yield Metric(STAGE, name="selected_mean_pass_rate", value=float(spread["mean"]))
    yield StageFinished(
        STAGE,
        counts={
            "selection": sid,
            "rule": rule,
            "train": len(chosen.train),
            "val": len(chosen.val),
            "scored": len(rates),
            "pool": len(candidates),
            "dropped_low_agreement": len(doubtful),
        },
    )

"""Select stage and stats: selections in the store, user decisions, bad input, hand-checked histograms and counts."""

from __future__ import annotations

import json
import time

import pytest

from engine.errors import StageError
from engine.stages import StageContext, run_blocking
from engine.stages.select import iter_select
from engine.stats import compute_stats
from engine.workspace import Workspace
from tests.engine.test_probe import add_samples, configure

RATES = [0.0, 0.25, 0.5, 0.75, 1.0, 0.125]


def scored_workspace(ws: Workspace, share: float = 0.0) -> tuple[StageContext, list[int]]:
    configure(ws, selection={"validation_share": share})
    ids = add_samples(ws, [(f"Question number {i}?", "7") for i in range(len(RATES))])
    with ws.store.transaction() as conn:
        conn.execute(
            "UPDATE samples SET origin='easier', round=1, parent_id=? WHERE id=?", (ids[0], ids[5])
        )
        conn.execute("UPDATE samples SET agreement=0.4 WHERE id=?", (ids[1],))
        for sid, rate in zip(ids, RATES, strict=True):
            conn.execute(
                "INSERT INTO scores(sample_id, model, k, passed, pass_rate, created_at) VALUES (?,?,?,?,?,?)",
                (sid, "gemma3-270m", 8, int(rate * 8), rate, time.time()),
            )
        for sid, correct in ((ids[0], 0), (ids[4], 1), (ids[3], 1)):
            conn.execute(
                "INSERT INTO probes(sample_id, model, text, answer, correct, created_at) VALUES (?,?,?,?,?,?)",
                (sid, "gemma3-270m", "", None, correct, time.time()),
            )
    return StageContext.open(ws), ids


def decide(ws: Workspace, sample_id: int, action: str) -> None:
    with ws.store.transaction() as conn:
        conn.execute(
            "INSERT INTO decisions(sample_id, action, created_at) VALUES (?,?,?)",
            (sample_id, action, time.time()),
        )


def test_select_writes_a_new_selection_each_time_with_decisions(workspace: Workspace) -> None:
    ctx, ids = scored_workspace(workspace)
    finished = run_blocking(iter_select(ctx))
    assert finished is not None and finished.counts["train"] == 4
    items = workspace.store.query(
        "SELECT sample_id, split, pass_rate FROM selection_items ORDER BY pass_rate"
    )
    assert [r["sample_id"] for r in items] == [
        ids[5],
        ids[1],
        ids[2],
        ids[3],
    ]  # 0 < p < 1, ascending
    decide(workspace, ids[1], "reject")
    decide(workspace, ids[4], "pin")
    decide(workspace, ids[2], "accept")
    decide(workspace, ids[2], "clear")  # undoes the accept
    run_blocking(iter_select(ctx, "paper", 2))
    latest = workspace.store.scalar("SELECT MAX(id) FROM selections")
    chosen = [
        r[0]
        for r in workspace.store.query(
            "SELECT sample_id FROM selection_items WHERE selection_id=?", (latest,)
        )
    ]
    assert sorted(chosen) == sorted(
        [ids[4], ids[5]]
    )  # pinned p=1 sample, then the hardest non-rejected
    assert workspace.store.scalar("SELECT COUNT(*) FROM selections") == 2


def test_validation_split_is_stored_and_a_task_change_empties_the_pool(
    workspace: Workspace,
) -> None:
    ctx, ids = scored_workspace(workspace, share=0.5)
    finished = run_blocking(iter_select(ctx, "paper", 4))
    assert finished is not None and finished.counts["val"] == 2 and finished.counts["train"] == 2
    splits = {
        r["sample_id"]: r["split"]
        for r in workspace.store.query("SELECT sample_id, split FROM selection_items")
    }
    assert sorted(splits.values()) == ["train", "train", "val", "val"]
    assert set(splits) == {ids[1], ids[2], ids[3], ids[5]}
    configure(workspace, selection={"m": 3})  # a new task revision starts with an empty pool
    with pytest.raises(StageError, match="No labelled samples"):
        run_blocking(iter_select(StageContext.open(workspace)))


def test_bad_band_and_unscored_pool_write_nothing(workspace: Workspace) -> None:
    add_samples(workspace, [("Unscored question?", "3")])
    ctx = StageContext.open(workspace)
    with pytest.raises(StageError, match="above upper bound") as info:
        run_blocking(iter_select(ctx, "band", 5, (0.9, 0.1)))
    assert "--band" in info.value.hint
    with pytest.raises(StageError, match="pass rate") as info:
        run_blocking(iter_select(ctx))
    assert "sdrl score" in info.value.hint
    assert workspace.store.scalar("SELECT COUNT(*) FROM selections") == 0


def test_compute_stats_by_hand(workspace: Workspace) -> None:
    ctx, ids = scored_workspace(workspace)
    run_blocking(iter_select(ctx, "band", 10, (0.2, 0.8)))
    stats = compute_stats(workspace.store, ctx.revision.id)
    pr = stats["pass_rate"]
    # initial samples (round 0): 0, .25, .5, .75, 1 ; the easier rewrite adds .125 to the pool
    assert pr["before_adaptation"] == [1, 0, 1, 0, 0, 1, 0, 1, 0, 1]
    assert pr["after_adaptation"] == [1, 1, 1, 0, 0, 1, 0, 1, 0, 1]
    assert stats["probe"] == {"solved": 2, "unsolved": 1}
    assert (
        stats["rewrites"]["easier"]["produced"] == 1
        and stats["rewrites"]["harder"]["produced"] == 0
    )
    sel = stats["selection"]
    assert sel["rule"] == "band" and sel["train"] == 3 and sel["val"] == 0
    assert (sel["pass_rate"]["min"], sel["pass_rate"]["max"], sel["pass_rate"]["median"]) == (
        0.25,
        0.75,
        0.5,
    )
    assert sel["agreement"]["below_threshold"] == 1  # the 0.4-agreement label
    stored = json.loads(workspace.store.get_artifact(ctx.revision.id, "stats", "summary") or "{}")
    assert stored["selection"]["train"] == 3

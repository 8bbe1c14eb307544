"""Events round-trip through the JSONL log, and a follower in another process sees them as they land."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from engine.events import (
    EventLog,
    ItemDone,
    Metric,
    Progress,
    StageFinished,
    StageStarted,
    from_dict,
    to_dict,
)


def test_events_are_frozen_and_round_trip() -> None:
    event = Progress("score", done=3, total=10)
    with pytest.raises(AttributeError):
        event.done = 4  # type: ignore[misc]
    assert from_dict(to_dict(event)) == event


def test_log_reads_from_offsets_and_skips_partial_lines(tmp_path) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    log.append(StageStarted("train", total=2))
    log.append(Metric("train", name="reward_mean", value=0.5, step=1))
    events, offset = log.read()
    assert [type(e).__name__ for e in events] == ["StageStarted", "Metric"]
    with open(log.path, "a") as fh:
        fh.write('{"type": "Metric", "stage": "tr')  # a writer mid-line
    more, offset2 = log.read(offset)
    assert more == [] and offset2 == offset
    with open(log.path, "a") as fh:
        fh.write('ain", "name": "kl", "value": 0.1, "step": 2, "ts": 1.0}\n')
    more, _ = log.read(offset)
    assert more == [Metric("train", name="kl", value=0.1, step=2, ts=1.0)]


def test_a_follower_in_another_process_sees_appended_events(tmp_path) -> None:
    path = tmp_path / "events.jsonl"
    writer = textwrap.dedent(f"""
        import time
        from engine.events import EventLog, ItemDone, StageFinished
        log = EventLog({str(path)!r})
        for i in range(3):
            log.append(ItemDone("generate", item_id=i))
            time.sleep(0.05)
        log.append(StageFinished("generate", counts={{"n": 3}}))
    """)
    proc = subprocess.Popen([sys.executable, "-c", writer])
    seen = []
    for event in EventLog(path).follow(lambda: proc.poll() is None, poll=0.02):
        seen.append(event)  # the writer's exit ends the follow, after what it wrote last
    proc.wait(timeout=30)
    assert [e.item_id for e in seen if isinstance(e, ItemDone)] == [0, 1, 2]
    assert isinstance(seen[-1], StageFinished) and seen[-1].counts == {"n": 3}

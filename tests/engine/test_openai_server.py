"""The `openai` instructor backend against a real OpenAI-compatible server (llama-cpp-python's, on the bundled
SmolLM2): generate, label and preview through it, schema-constrained and streamed; a server killed mid-stage."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from engine.backends import llamacpp_instructor
from engine.backends.instructor import clear_cache, get_instructor
from engine.errors import BackendError
from engine.events import ItemDone, ItemFailed, StageFinished, Token
from engine.parsing import vote_schema
from engine.stages import StageContext, run_blocking
from engine.stages.generate import iter_generate, iter_generate_samples, iter_prepare
from engine.stages.preview import iter_preview
from engine.task_file import update_task_text
from engine.workspace import Workspace
from tests.engine.llama_server import MODEL_ALIAS, LlamaServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    served = LlamaServer(tmp_path_factory.mktemp("server") / "server.log")
    served.start()
    yield served
    served.stop()


def _point_at(ws: Workspace, server: LlamaServer, prompting: str = "chat") -> None:
    """The demo task with its instructor behind the server (llama-cpp-python takes `json_object` + schema),
    asked by chat for JSON unless `prompting` says "fewshot" (plain-text /completions)."""
    text = ws.task_file.read_text()
    text = text.replace(
        'instructor = "smollm2-135m-instruct"\n',
        'instructor_backend = "openai"\n'
        f'openai_base_url = "{server.base_url}"\n'
        f'openai_model = "{MODEL_ALIAS}"\n'
        'openai_response_format = "json_object"\n',
    ).replace("max_tokens = 256\nvote_max_tokens = 256", "max_tokens = 160\nvote_max_tokens = 96")
    ws.task_file.write_text(update_task_text(text, {"generation": {"prompting": prompting}}))
    clear_cache()


def _finished(events: list) -> dict[str, dict]:  # type: ignore[type-arg]
    return {e.stage: e.counts for e in events if isinstance(e, StageFinished)}


def test_generate_label_and_preview_through_the_server(workspace, server) -> None:  # type: ignore[no-untyped-def]
    _point_at(workspace, server)
    ctx = StageContext.open(workspace)
    assert get_instructor(ctx.task).name == "openai"
    loaded_before = set(
        llamacpp_instructor._MODELS
    )  # earlier tests in this process may have loaded one
    counts = _finished(list(iter_generate(ctx, n=2, votes=1)))
    assert counts["generate"]["generated"] + counts["generate"]["gave_up"] == 2
    # every reply came from the server: no in-process model was loaded for it
    assert set(llamacpp_instructor._MODELS) == loaded_before

    # constrained: every reply, parsed or not, is the schema's JSON object (prose would start otherwise)
    replies = [
        r[0] for r in workspace.store.query("SELECT raw FROM failures WHERE stage='generate'")
    ]
    replies += [
        json.dumps({"input": r[0]}) for r in workspace.store.query("SELECT question FROM samples")
    ]
    assert replies and all(r.lstrip().startswith("{") for r in replies), replies
    labelled = workspace.store.query("SELECT id, status FROM samples")
    if labelled:
        assert counts["label"]["labelled"] + counts["label"]["unlabelable"] == len(labelled)
        votes = workspace.store.scalar("SELECT COUNT(*) FROM votes WHERE idx=1")
        assert votes == len(labelled)  # one instructor vote each, beside the generator's own

    vote = get_instructor(ctx.task).chat(
        [{"role": "user", "content": "What is 2 + 3? Reason, then answer."}],
        temperature=0.0,
        max_tokens=96,
        seed=0,
        json_schema=vote_schema("numeric"),
    )
    if vote.rstrip().endswith("}"):  # not cut by max_tokens: the whole object follows the schema
        assert isinstance(json.loads(vote)["answer"], int | float), vote

    events = list(iter_preview(StageContext.open(workspace), 1, seed=5, ingest=False))
    tokens = [e.text for e in events if isinstance(e, Token)]
    assert len(tokens) > 3  # streamed piece by piece
    assert "".join(tokens).lstrip().startswith("{")
    done = [e for e in events if isinstance(e, ItemDone)]
    assert _finished(events)["preview"]["previewed"] == len(done)
    clear_cache()


def test_fewshot_prompting_through_the_server(workspace, server) -> None:  # type: ignore[no-untyped-def]
    """The demo's few-shot prompting: plain-text /completions, cut at the blank line before the next example."""
    _point_at(workspace, server, "fewshot")
    ctx = StageContext.open(workspace)
    run_blocking(iter_prepare(ctx))
    counts = _finished(list(iter_generate_samples(ctx, n=2)))
    assert counts["generate"]["generated"] + counts["generate"]["gave_up"] == 2
    questions = [r[0] for r in workspace.store.query("SELECT question FROM samples")]
    raw = [r[0] for r in workspace.store.query("SELECT raw FROM failures WHERE stage='generate'")]
    assert questions or raw
    assert all("\n\n" not in q and "Answer:" not in q for q in questions)
    assert all(not r.lstrip().startswith("{") for r in raw)  # not asked for JSON
    clear_cache()


def test_a_server_killed_mid_stage_fails_bounded_then_the_stage_resumes(  # type: ignore[no-untyped-def]
    workspace, server
) -> None:
    _point_at(workspace, server)
    ctx = StageContext.open(workspace)
    run_blocking(iter_prepare(ctx))
    made: list[ItemDone] = []
    with pytest.raises(BackendError) as err:
        for event in iter_generate_samples(ctx, n=3):
            if isinstance(event, ItemDone):
                made.append(event)
            if isinstance(event, ItemDone | ItemFailed):
                server.kill()  # after the first finished item, mid-stage
            assert not isinstance(event, StageFinished)
    assert server.base_url in err.value.title and "openai_base_url" in err.value.hint
    before = workspace.store.query("SELECT slot_key FROM samples ORDER BY slot_key")
    assert [r[0] for r in before] == [str(e.detail["slot"]) for e in made]
    # an unreachable server is not the item's fault: no slot used up an attempt on it
    failed = workspace.store.query("SELECT raw FROM failures WHERE stage='generate'")
    assert not [r for r in failed if "unreachable" in (r[0] or "")]

    server.start()
    clear_cache()
    counts = _finished(list(iter_generate_samples(StageContext.open(workspace), n=3)))
    assert counts["generate"]["existing"] == len(before)
    slots = [r[0] for r in workspace.store.query("SELECT slot_key FROM samples ORDER BY slot_key")]
    assert len(slots) == len(set(slots))  # nothing duplicated
    assert len(slots) + counts["generate"]["gave_up"] == 3
    clear_cache()

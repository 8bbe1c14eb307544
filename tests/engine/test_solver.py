"""Solver backends: stop handling, the repaired GGUF tokenizer, real generation, LoRA adapters, vLLM on GPU."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.backends.hf_solver import cut_at_stop
from engine.backends.solver import PLAIN_STOP, get_solver, solve_prompts
from engine.config import TaskDefinition
from engine.errors import BackendError, ConfigError, ModelError
from engine.workspace import Workspace

PROMPT_QUESTIONS = [
    "Tom has 5 apples and buys 3 more. How many apples does he have now?",
    "A bus ticket costs $2. How much do 4 tickets cost?",
]


def test_cut_at_stop() -> None:
    assert cut_at_stop(" 12\n\nQuestion: next?", PLAIN_STOP) == " 12\n"
    assert cut_at_stop("no stop here", PLAIN_STOP) == "no stop here"
    # a stop that begins in the prompt's trailing newline
    assert cut_at_stop("Question: more", PLAIN_STOP, prompt="Answer:\n") == ""
    assert cut_at_stop("#### 8\nQuestion: x", PLAIN_STOP, prompt="Answer:\n") == "#### 8"


def test_solve_prompts_plain_and_chat_without_template(workspace: Workspace) -> None:
    task = workspace.task()
    plain = solve_prompts(task, ["What is 2+2?"], solver=object())  # type: ignore[arg-type]
    assert plain[0].endswith("Question: What is 2+2?\nAnswer:")

    class NoChat:
        name = "x"

    chat_task = task.model_copy(
        update={"models": task.models.model_copy(update={"prompt_format": "chat"})}
    )
    with pytest.raises(BackendError, match="chat"):
        solve_prompts(chat_task, ["q"], NoChat())  # type: ignore[arg-type]


def test_missing_adapter_is_a_clear_error(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        get_solver(workspace.task(), adapter=tmp_path / "nope")


@pytest.fixture(scope="module")
def gemma_task() -> TaskDefinition:
    from engine.config import load_task
    from engine.workspace import templates_dir

    return load_task(templates_dir() / "demo" / "task.toml")


@pytest.mark.slow
def test_gguf_tokenizer_matches_llamacpp(gemma_task: TaskDefinition) -> None:
    from llama_cpp import Llama

    from engine.backends.gguf_tokenizer import load_tokenizer
    from engine.models import resolve_model

    ref = resolve_model("gemma3-270m")
    tokenizer = load_tokenizer(ref)
    vocab = Llama(str(ref.path), n_ctx=64, vocab_only=True, verbose=False)
    try:
        for text in [
            "math.\n\nQuestion: A baker\nAnswer: 12",
            "Hello  world\t\ttab   x\n\n\nq",
            "Ünïcödé 日本語 😀",
            "  leading spaces, $12,345.67",
            *PROMPT_QUESTIONS,
        ]:
            assert tokenizer(text).input_ids == vocab.tokenize(
                text.encode(), add_bos=True, special=True
            ), text
            assert tokenizer.decode(tokenizer(text).input_ids, skip_special_tokens=True) == text
    finally:
        vocab.close()


@pytest.mark.slow
def test_transformers_solver_batches_and_loads_a_lora_adapter(
    gemma_task: TaskDefinition, tmp_path: Path
) -> None:
    from peft import LoraConfig, PeftModel, get_peft_model

    solver = get_solver(gemma_task)
    prompts = solve_prompts(gemma_task, PROMPT_QUESTIONS, solver)
    greedy = solver.generate(prompts, n=1, temperature=0.0, max_tokens=8)
    assert len(greedy) == 2 and all(len(g) == 1 for g in greedy)
    assert any(g[0].strip() for g in greedy)
    assert all(not g[0].startswith("Question") and "\nQuestion:" not in g[0] for g in greedy)
    sampled = solver.generate(prompts, n=3, temperature=1.0, top_p=0.95, max_tokens=6, seed=1)
    assert [len(s) for s in sampled] == [3, 3]
    assert (
        solver.generate(prompts, n=3, temperature=1.0, top_p=0.95, max_tokens=6, seed=1) == sampled
    )  # seeded

    # a freshly initialised LoRA adapter (B = 0) changes nothing: same greedy answers through PEFT
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"])
    get_peft_model(solver.model, lora).save_pretrained(str(tmp_path / "adapter"))  # type: ignore[attr-defined]
    solver.close()
    tuned = get_solver(gemma_task, adapter=tmp_path / "adapter")
    assert isinstance(tuned.model, PeftModel)  # type: ignore[attr-defined]
    assert "+" in tuned.name
    assert tuned.generate(prompts, n=1, temperature=0.0, max_tokens=8) == greedy
    tuned.close()
    with pytest.raises(ModelError, match="adapter_config"):
        get_solver(gemma_task, adapter=tmp_path)


@pytest.mark.slow
def test_llamacpp_solver(gemma_task: TaskDefinition, tmp_path: Path) -> None:
    task = gemma_task.model_copy(
        update={"models": gemma_task.models.model_copy(update={"solver_backend": "llamacpp"})}
    )
    solver = get_solver(task)
    try:
        out = solver.generate(
            solve_prompts(task, PROMPT_QUESTIONS[:1], solver),
            n=2,
            temperature=0.7,
            max_tokens=8,
            seed=3,
        )
        assert len(out) == 1 and len(out[0]) == 2
        assert all("\nQuestion:" not in t for t in out[0])
    finally:
        solver.close()
    with pytest.raises(BackendError, match="adapter"):
        get_solver(task, adapter=tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["transformers", "llamacpp"])
def test_a_stop_cuts_the_solver_call_in_flight_short(
    gemma_task: TaskDefinition, backend: str
) -> None:
    """`jobs stop` and Ctrl-C set the stage's stop check; a solver call in flight then ends at the next
    token and raises Interrupted (its partial answers are never kept), and the solver stays usable."""
    from engine.backends.base import cancel_solvers_when
    from engine.errors import Interrupted

    task = gemma_task.model_copy(
        update={"models": gemma_task.models.model_copy(update={"solver_backend": backend})}
    )
    solver = get_solver(task)
    prompts = solve_prompts(task, PROMPT_QUESTIONS[:1], solver)
    checks: list[int] = []

    def stop_after_the_first_token() -> bool:
        checks.append(1)
        return len(checks) > 1

    cancel_solvers_when(stop_after_the_first_token)
    try:
        with pytest.raises(Interrupted, match="interrupted"):
            solver.generate(prompts, n=2, temperature=0.7, max_tokens=400, seed=1)
        # checked once per token: 400 tokens x 2 answers were asked for, it stopped at once
        assert 2 <= len(checks) <= 4
        cancel_solvers_when(lambda: False)
        again = solver.generate(prompts, n=2, temperature=0.7, max_tokens=4, seed=1)
        assert len(again) == 1 and len(again[0]) == 2
    finally:
        cancel_solvers_when(lambda: False)
        solver.close()


@pytest.mark.gpu
@pytest.mark.slow
def test_vllm_solver_k_samples_in_one_call(gemma_task: TaskDefinition) -> None:
    pytest.importorskip("vllm")
    task = gemma_task.model_copy(
        update={"models": gemma_task.models.model_copy(update={"solver_backend": "vllm"})}
    )
    solver = get_solver(task)
    try:
        out = solver.generate(
            solve_prompts(task, PROMPT_QUESTIONS, solver),
            n=4,
            temperature=0.7,
            max_tokens=16,
            seed=0,
        )
        assert [len(o) for o in out] == [4, 4]
        assert all("\nQuestion:" not in t for o in out for t in o)
    finally:
        solver.close()


@pytest.mark.gpu
@pytest.mark.slow
def test_two_vllm_engines_share_one_gpu(gemma_task: TaskDefinition) -> None:
    """Instructor and solver on vLLM in one process: each takes models.vllm_gpu_memory_utilization, not 90%."""
    pytest.importorskip("vllm")
    from engine.backends.instructor import clear_cache, get_instructor

    models = gemma_task.models.model_copy(
        update={"solver_backend": "vllm", "instructor_backend": "vllm"}
    )
    task = gemma_task.model_copy(update={"models": models})
    assert task.models.vllm_gpu_memory_utilization <= 0.45
    clear_cache()
    instructor = get_instructor(task)
    solver = get_solver(task)
    try:
        assert instructor.chat(
            [{"role": "user", "content": "Say hi."}], temperature=0.0, max_tokens=8, seed=0
        )
        out = solver.generate(solve_prompts(task, PROMPT_QUESTIONS, solver), n=2, max_tokens=8)
        assert [len(o) for o in out] == [2, 2]
    finally:
        solver.close()
        clear_cache()


@pytest.mark.parametrize("scale,boost", [(0.5, 15.0), (3.0, 15.0), (10.0, 0.0), (0.01, 0.0)])
def test_nucleus_processor_equals_hf_temperature_then_top_p(scale: float, boost: float) -> None:
    import torch
    from transformers import TemperatureLogitsWarper, TopPLogitsWarper

    from engine.backends.hf_sampling import nucleus_processor

    torch.manual_seed(0)
    logits = torch.randn(4, 50_000) * scale
    logits[:, :5] += boost  # peaked rows (nucleus in the slice) and flat ones (full-sort fallback)
    expected = TopPLogitsWarper(0.95)(None, TemperatureLogitsWarper(0.7)(None, logits.clone()))
    got = nucleus_processor(0.7, 0.95, slice_size=64)(None, logits.clone())
    kept = ~torch.isinf(expected)
    assert torch.equal(kept, ~torch.isinf(got))
    assert torch.allclose(expected[kept], got[kept])
    if scale == 0.01:
        assert int(kept.sum(-1).min()) > 64  # the fallback path really ran

"""The argument checker behind scripts/gpu-check.sh: our TRL/PEFT arguments match the installed TRL; a renamed
argument is caught; vLLM's LoRA ranks and memory share (pure option builders, no vLLM needed)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from engine import signature_check
from engine.errors import BackendError
from engine.models import GEMMA3, resolve_model


def test_our_trl_and_peft_arguments_match_the_installed_libraries() -> None:
    assert signature_check.check_trl() == []
    assert signature_check.main(["trl"]) == 0


def test_a_renamed_argument_fails_loudly(monkeypatch, capsys) -> None:
    from engine.training import configs

    real = configs.grpo_options
    monkeypatch.setattr(
        configs,
        "grpo_options",
        lambda *a, **k: {**real(*a, **k), "max_completion_len": 8},  # as if TRL had renamed it
    )
    problems = signature_check.check_trl()
    assert problems and all("'max_completion_len'" in p for p in problems)
    assert any("GPU + vLLM colocate" in p for p in problems)
    assert signature_check.main(["trl"]) == 1
    assert "error: trl.GRPOConfig" in capsys.readouterr().out


def test_accepted_names_of_dataclasses_functions_and_open_kwargs() -> None:
    @dataclasses.dataclass
    class Config:
        a: int = 0
        b: int = 1

    def takes(x: int, *, y: int = 0) -> None: ...

    def open_ended(x: int, **rest: int) -> None: ...

    assert signature_check.accepted_names(Config) == {"a", "b"}
    assert signature_check.accepted_names(takes) == {"x", "y"}
    assert signature_check.accepted_names(open_ended) is None
    assert signature_check.unknown_arguments("f", ["x", "z"], {"x"}) == ["f has no argument 'z'"]
    assert signature_check.unknown_arguments("f", ["z"], None) == []


def test_an_unknown_check_is_refused(capsys) -> None:
    assert signature_check.main(["nope"]) == 2
    assert "fix:" in capsys.readouterr().out


def test_vllm_lora_rank_rounds_up_to_a_size_vllm_takes(tmp_path: Path) -> None:
    from engine.backends.vllm_solver import engine_options, vllm_lora_rank

    assert [vllm_lora_rank(r) for r in (1, 8, 9, 16, 17, 33, 100, 256, 300, 512)] == [
        8,
        8,
        16,
        16,
        32,
        64,
        128,
        256,
        320,
        512,
    ]
    with pytest.raises(BackendError, match="LoRA rank 513"):
        vllm_lora_rank(513)
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(
        '{"r": 24}'
    )  # the adapter's own rank wins if larger
    options = engine_options(
        resolve_model(GEMMA3), adapter=adapter, n_ctx=512, lora_rank=16, gpu_memory_utilization=0.35
    )
    assert options["enable_lora"] and options["max_lora_rank"] == 32
    assert options["gpu_memory_utilization"] == 0.35
    plain = engine_options(
        resolve_model(GEMMA3), adapter=None, n_ctx=512, lora_rank=16, gpu_memory_utilization=0.4
    )
    assert "enable_lora" not in plain and "max_lora_rank" not in plain

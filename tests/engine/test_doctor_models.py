"""Bundled models are found without a hub, and load and generate in llama.cpp and transformers; the doctor reports it."""

from __future__ import annotations

import json

import pytest

from engine.errors import ModelError
from engine.models import GEMMA3, SMOLLM2, resolve_model
from engine.workspace import demo_workspace


def test_bundled_models_resolve_to_gguf_files() -> None:
    for name in (SMOLLM2, GEMMA3):
        ref = resolve_model(name)
        assert ref.kind == "gguf"
        assert ref.path.read_bytes()[:4] == b"GGUF"
    assert resolve_model(GEMMA3).chat_format == "gemma"


def test_unknown_model_name_says_what_is_accepted(tmp_path) -> None:
    with pytest.raises(ModelError) as err:
        resolve_model("gpt-17")
    assert SMOLLM2 in err.value.hint and ".gguf" in err.value.hint
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError) as err:
        resolve_model(str(tmp_path / "empty"))
    assert "config.json" in err.value.title


def test_hf_folder_is_recognised(tmp_path) -> None:
    (tmp_path / "config.json").write_text("{}")
    ref = resolve_model(str(tmp_path))
    assert ref.kind == "hf" and ref.path == tmp_path.resolve()


def test_demo_workspace_is_created_once_under_sdrl_home(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SDRL_HOME", str(tmp_path))
    first = demo_workspace()
    assert first.root == (tmp_path / "demo").resolve()
    first.current_revision()
    second = demo_workspace()
    assert second.store.scalar("SELECT COUNT(*) FROM revisions") == 1
    first.close()
    second.close()


@pytest.mark.slow
def test_doctor_loads_both_bundled_models(sdrl) -> None:
    """Each model generates from a many-token prompt in a child process: the instructor in llama.cpp,
    the base in llama.cpp and in transformers."""
    result = sdrl("doctor", "--json")
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    for name in (
        f"instructor {SMOLLM2} (llama.cpp)",
        f"base {GEMMA3} (llama.cpp)",
        f"base {GEMMA3} (transformers)",
    ):
        assert checks[name]["ok"], checks[name]
        prompt_tokens = int(checks[name]["detail"].split("read ")[1].split(" tokens")[0])
        assert prompt_tokens > 10, checks[name]
    assert checks["llama.cpp"]["ok"] and checks["torch"]["ok"]
    assert "CPU" in checks["torch"]["detail"] or "CUDA" in checks["torch"]["detail"]
    assert result.returncode == 0, result.stdout

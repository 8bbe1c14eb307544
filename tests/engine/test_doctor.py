"""The doctor survives a model that crashes: a child killed by a signal is a failed check named with its fix."""

from __future__ import annotations

import json

import pytest

from engine.config import ModelSettings
from engine.doctor import model_checks, probe_model
from engine.errors import ConfigError
from engine.faults import ENV, injected_signal
from engine.models import GEMMA3, SMOLLM2


def test_injected_sigill_is_reported_by_name_with_the_rebuild_fix(sdrl) -> None:
    result = sdrl("doctor", env={ENV: "doctor-child:SIGILL"})
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    lines = result.stdout.splitlines()
    for name in (
        f"instructor {SMOLLM2} (llama.cpp)",
        f"base {GEMMA3} (llama.cpp)",
        f"base {GEMMA3} (transformers)",
    ):
        at = next(i for i, line in enumerate(lines) if name in line)
        assert lines[at].startswith("FAIL"), lines[at]
        assert "crashed with an illegal instruction (SIGILL)" in lines[at], lines[at]
        assert lines[at + 1].strip().startswith("fix:"), lines[at + 1]
    assert "llama.cpp crashed with an illegal instruction" in result.stdout
    assert "./dev setup" in result.stdout and "GGML_NATIVE=OFF" in result.stdout
    assert "Traceback" not in result.stderr
    ok_lines = [line for line in lines if line.startswith("ok")]
    assert any("torch" in line for line in ok_lines)  # the other checks still ran


def test_injected_sigill_in_json_output(sdrl) -> None:
    result = sdrl("doctor", "--json", env={ENV: "doctor-child:SIGILL"})
    assert result.returncode == 1
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    failed = checks[f"base {GEMMA3} (llama.cpp)"]
    assert not failed["ok"] and "illegal instruction" in failed["detail"]
    assert "GGML_NATIVE=OFF" in failed["hint"]


def test_child_killed_by_sigkill_is_named_as_out_of_memory(monkeypatch) -> None:
    monkeypatch.setenv(ENV, "doctor-child:SIGKILL")
    check = probe_model("base", "llamacpp", GEMMA3)
    assert not check.ok
    assert "SIGKILL" in check.detail and "out-of-memory" in check.detail
    assert "free memory" in check.hint


def test_a_missing_model_is_a_failed_check_not_a_crash(tmp_path) -> None:
    missing = str(tmp_path / "nope.gguf")
    instructor = probe_model("instructor", "llamacpp", missing)
    assert not instructor.ok and "not found" in instructor.detail and ".gguf" in instructor.hint
    checks = list(model_checks(ModelSettings(instructor=missing, base=missing)))
    assert [c.name for c in checks] == [
        f"instructor {missing} (llama.cpp)",
        f"base {missing}",
    ]
    assert not any(c.ok for c in checks)


def test_an_openai_instructor_is_not_loaded_by_the_doctor(tmp_path) -> None:
    settings = ModelSettings(instructor_backend="openai", base=str(tmp_path / "nope"))
    first = next(iter(model_checks(settings)))
    assert first.optional and not first.ok and "openai" in first.detail


def test_fault_spec_names_a_point_and_a_signal(monkeypatch) -> None:
    import signal

    monkeypatch.setenv(ENV, "job:KILL, doctor-child:SIGILL")
    assert injected_signal("doctor-child") == signal.SIGILL
    assert injected_signal("job") == signal.SIGKILL
    assert injected_signal("other") is None
    monkeypatch.setenv(ENV, "doctor-child:SIGNOPE")
    with pytest.raises(ConfigError, match="names no signal"):
        injected_signal("doctor-child")


def test_in_a_workspace_the_doctor_checks_the_models_of_its_task(workspace, sdrl, tmp_path) -> None:
    missing = tmp_path / "mine.gguf"
    task_file = workspace.root / "task.toml"
    text = task_file.read_text()
    assert 'base = "gemma3-270m"' in text
    task_file.write_text(text.replace('base = "gemma3-270m"', f'base = "{missing}"'))
    result = sdrl("-w", str(workspace.root), "doctor", env={ENV: "doctor-child:SIGILL"})
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("FAIL") and f"base {missing}" in line for line in lines)
    assert "not found" in result.stdout
    assert f"base {GEMMA3}" not in result.stdout
    assert any(f"instructor {SMOLLM2} (llama.cpp)" in line for line in lines)
    assert any(line.startswith("ok") and "disk (workspace)" in line for line in lines)

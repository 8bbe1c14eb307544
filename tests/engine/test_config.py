"""Task definitions: METHOD.md defaults, and validation messages that name file, field and fix."""

from __future__ import annotations

import pytest

from engine.config import parse_task
from engine.errors import ConfigError

MINIMAL = """
name = "t"
description = "Arithmetic word problems."
output_format = "#### N"
answer_type = "numeric"
"""


def test_defaults_are_the_papers() -> None:
    task = parse_task(MINIMAL)
    assert task.generation.n_samples == 500
    assert task.generation.votes == 16
    assert task.generation.temperature == 0.7
    assert task.generation.passage_chars == 2048
    assert task.scoring.k == 64
    assert task.selection.m == 500 and task.selection.rule == "paper"
    assert task.training.group_size == 16 and task.training.prompts_per_step == 4
    assert task.training.kl_coef == 0.01 and task.training.clip_eps == 0.2
    assert task.difficulty.rounds == 1


def test_malformed_toml_names_the_file() -> None:
    with pytest.raises(ConfigError) as err:
        parse_task('name = "t\n', "ws/task.toml")
    assert "ws/task.toml is not valid TOML" in err.value.title
    assert err.value.hint


def test_unknown_answer_type_lists_allowed_values() -> None:
    with pytest.raises(ConfigError) as err:
        parse_task(MINIMAL.replace('"numeric"', '"roman"'))
    assert "answer_type" in err.value.title and "'roman'" in err.value.title
    assert "numeric" in err.value.hint and "multiple_choice" in err.value.hint


def test_misspelled_setting_is_rejected() -> None:
    with pytest.raises(ConfigError) as err:
        parse_task(MINIMAL + "\n[generation]\nn_sample = 3\n")
    assert "generation.n_sample" in err.value.title
    assert "not a known setting" in err.value.title


def test_band_order_and_ranges_are_checked() -> None:
    with pytest.raises(ConfigError) as err:
        parse_task(MINIMAL + "\n[selection]\nband = [0.8, 0.2]\n")
    assert "selection" in err.value.title and "above upper bound" in err.value.title
    with pytest.raises(ConfigError):
        parse_task(MINIMAL + "\n[scoring]\nk = 0\n")


def test_custom_answer_type_needs_a_checker() -> None:
    with pytest.raises(ConfigError) as err:
        parse_task(MINIMAL.replace('"numeric"', '"custom"'))
    assert "checker" in err.value.title


def test_fewshot_prompting_needs_demos() -> None:
    text = MINIMAL + '[generation]\nprompting = "fewshot"\n'
    with pytest.raises(ConfigError) as err:
        parse_task(text)
    assert "demos" in err.value.title and "chat" in err.value.title
    task = parse_task(
        MINIMAL.replace(
            'answer_type = "numeric"',
            'answer_type = "numeric"\n[[demos]]\ninput = "1 + 1?"\noutput = "#### 2"',
        )
        + '[generation]\nprompting = "fewshot"\n'
    )
    assert task.generation.prompting == "fewshot"


def test_missing_field_is_named() -> None:
    with pytest.raises(ConfigError) as err:
        parse_task('name = "t"\nanswer_type = "numeric"\noutput_format = "x"\n')
    assert "`description` is missing" in err.value.title


def _all_fields(model, prefix=""):
    from pydantic import BaseModel

    for name, field in model.model_fields.items():
        yield prefix + name, field
        inner = field.annotation
        if getattr(inner, "__origin__", None) is list:
            inner = inner.__args__[0]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            yield from _all_fields(inner, f"{prefix}{name}.")


def test_every_setting_has_a_description() -> None:
    from engine.config import TaskDefinition

    fields = list(_all_fields(TaskDefinition))
    assert len(fields) > 80
    undocumented = [name for name, field in fields if not (field.description or "").strip()]
    assert undocumented == []


def test_help_settings_lists_every_setting_with_type_default_and_text(sdrl, tmp_path) -> None:
    from engine.config import TaskDefinition

    result = sdrl("task", "show", "--help-settings", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "\n[models]  The instructor and base models" in out
    assert "\n[training]  LoRA GRPO training." in out
    assert '  rule: "paper" | "band" | "easy" | "hard" | "all" = "paper"\n' in out
    assert "  k: int (>= 1) = 64\n      Answers the base model samples per question" in out
    assert "  max_steps: int | None = unset\n" in out
    sections = [line for line in out.splitlines() if line.startswith(("[", "top level"))]
    for name, field in _all_fields(TaskDefinition):
        leaf = name.rsplit(".", 1)[-1]
        annotation = field.annotation
        if isinstance(annotation, type) and annotation.__module__ == "engine.config":
            assert any(line.startswith(f"[{leaf}]") for line in sections), name
            continue
        assert f"\n  {leaf}: " in out, name
        first_words = " ".join((field.description or "").split()[:6])
        assert first_words in " ".join(out.split()), name

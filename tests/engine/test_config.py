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


def test_missing_field_is_named() -> None:
    with pytest.raises(ConfigError) as err:
        parse_task('name = "t"\nanswer_type = "numeric"\noutput_format = "x"\n')
    assert "`description` is missing" in err.value.title

"""task.toml edits keep comments (tomlkit); task checks catch formats and demos the checker cannot read (issue 12 item 5)."""

from __future__ import annotations

import pytest

from engine.config import parse_task
from engine.errors import ConfigError
from engine.task_check import task_problems
from engine.task_file import update_task_text

TEXT = """# my notes about this task
name = "t"  # short name
description = "Old."
output_format = \"\"\"
Reason, then:
#### 42\"\"\"
answer_type = "numeric"

[[demos]]
input = "1 + 1?"
output = "#### 2"

[training]
# keep this small on a laptop
max_steps = 20
"""


def test_update_keeps_comments_and_untouched_values():
    new = update_task_text(
        TEXT,
        {
            "description": "Trains and buses.\nTwo steps.",
            "output_format": "\nReason, then:\n#### 42",
            "demos": [{"input": "2 + 2?", "output": "#### 4"}],
            "training": {"max_steps": 5},
        },
    )
    for kept in ("# my notes about this task", "# short name", "# keep this small on a laptop"):
        assert kept in new
    task = parse_task(new)
    assert task.description == "Trains and buses.\nTwo steps."
    assert task.demos[0].input == "2 + 2?" and task.training.max_steps == 5
    assert 'output_format = """\nReason, then:' in new  # an unchanged value keeps its written form


def test_update_of_broken_toml_is_a_config_error():
    with pytest.raises(ConfigError, match="not valid TOML"):
        update_task_text("name = ", {"name": "x"})


def test_checker_that_cannot_read_the_format_or_demos_is_reported():
    assert task_problems(parse_task(TEXT)) == []
    wrong = parse_task(TEXT.replace('"numeric"', '"multiple_choice"'))
    problems = {p.field: p for p in task_problems(wrong)}
    assert set(problems) == {"output_format", "demos"}
    assert "multiple_choice" in problems["output_format"].title
    assert "<answer>A</answer>" in problems["output_format"].hint
    assert "[1]" in problems["demos"].title


def test_custom_checker_that_cannot_be_imported_is_reported():
    text = TEXT.replace('"numeric"', '"custom"\nchecker = "no_such_module_here:extract"')
    problems = task_problems(parse_task(text))
    assert [p.field for p in problems] == ["checker"] and "cannot be imported" in problems[0].title


def test_cli_task_check_warns(workspace, sdrl):
    text = workspace.task_file.read_text().replace(
        'answer_type = "numeric"', 'answer_type = "multiple_choice"'
    )
    workspace.task_file.write_text(text)
    result = sdrl("-w", str(workspace.root), "task", "check")
    assert (
        "warning: the output format has no example the multiple_choice checker can read"
        in result.stderr
    )
    assert "fix:" in result.stderr and "warning(s)" in result.stdout

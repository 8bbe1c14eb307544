"""The lazy `sdrl` command group: every command is listed, and one whose module fails to import is reported, not hidden."""

from __future__ import annotations

import sys

import pytest

from engine.cli import main as cli_main


@pytest.fixture
def broken_command(tmp_path, monkeypatch):
    """A command `broken` whose module imports a package that is not installed."""
    (tmp_path / "sdrl_broken_cmd.py").write_text(
        "import click\nimport sdrl_no_such_package  # noqa: F401\n\n"
        "@click.command()\ndef cmd():\n    pass\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(cli_main.COMMANDS, "broken", ("sdrl_broken_cmd:cmd", "A broken command."))
    yield
    sys.modules.pop("sdrl_broken_cmd", None)


def test_broken_import_is_shown_with_its_module_and_traceback(broken_command, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli_main.main(["broken"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert (
        "error: the `broken` command could not be loaded: importing sdrl_broken_cmd failed" in err
    )
    assert "ModuleNotFoundError: No module named 'sdrl_no_such_package'" in err


def test_help_still_lists_every_command_including_a_broken_one(broken_command, capsys) -> None:
    cli_main.main(["--help"])
    out = capsys.readouterr().out
    for name in cli_main.COMMANDS:
        assert f"\n  {name} " in out, name
    assert "A broken command." in out


def test_every_listed_command_loads() -> None:
    for name in cli_main.COMMANDS:
        assert cli_main.load_command(name).name, name

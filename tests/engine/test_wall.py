"""The engine/studio wall, and the fast-start rule: nothing heavy is imported by --help or `import studio`."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformers", "trl", "peft", "vllm", "llama_cpp", "datasets")


def _imported_modules(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_engine_source_never_imports_textual_or_studio() -> None:
    offenders = {
        str(path.relative_to(REPO)): sorted(
            _imported_modules(path) & {"textual", "studio", "textual_plotext"}
        )
        for path in (REPO / "engine").rglob("*.py")
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert offenders == {}


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout.split()
    return {name.split(".")[0] for name in out}


def test_importing_every_engine_module_loads_no_textual() -> None:
    modules = [
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for path in (REPO / "engine").rglob("*.py")
    ]
    loaded = _loaded_after(f"import importlib\nfor m in {modules!r}: importlib.import_module(m)")
    assert "textual" not in loaded
    assert "studio" not in loaded


def test_sdrl_help_does_not_import_heavy_libraries() -> None:
    loaded = _loaded_after(
        "import sys\nfrom engine.cli.main import cli\n"
        "try:\n    cli.main(['--help'], standalone_mode=False)\nexcept SystemExit:\n    pass"
    )
    assert "click" in loaded  # the help really ran
    assert not loaded & set(HEAVY)


def test_import_studio_does_not_import_torch() -> None:
    loaded = _loaded_after("import studio, studio.app")
    assert "textual" in loaded
    assert not loaded & set(HEAVY)

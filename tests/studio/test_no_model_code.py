"""No model library in the studio's process: every studio module, and every engine module they import at
load time, is free of torch, transformers, llama_cpp and vllm (model code runs in jobs and the preview worker)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

FORBIDDEN = ("torch", "transformers", "llama_cpp", "vllm")


def module_file(name: str) -> Path | None:
    base = REPO.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_names(path: Path, *, module_level_only: bool) -> set[str]:
    """Modules `path` imports: all of them, or only those that run when it loads (not inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.If | ast.Try | ast.With):  # module-level blocks still run on load
            for child in ast.walk(node):
                if isinstance(child, ast.Import):
                    names.update(alias.name for alias in child.names)
                elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                    names.add(child.module)
    return names


def reachable_from_studio() -> dict[str, str]:
    """Every module reachable from studio/ -> the module that imports it (studio: any import; engine: at load)."""
    seen: dict[str, str] = {}
    todo = [
        ".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for p in (REPO / "studio").rglob("*.py")
    ]
    for name in todo:
        seen.setdefault(name, "studio")
    while todo:
        name = todo.pop()
        path = module_file(name)
        if path is None:
            continue
        in_studio = name.split(".")[0] == "studio"
        for imported in imported_names(path, module_level_only=not in_studio):
            if imported in seen:
                continue
            seen[imported] = name
            if imported.split(".")[0] in ("engine", "studio"):
                todo.append(imported)
    return seen


def test_no_model_library_is_imported_from_studio_statically():
    reached = reachable_from_studio()
    bad = {m: via for m, via in reached.items() if m.split(".")[0] in FORBIDDEN}
    assert not bad, f"model libraries reachable from studio/ (module: imported by): {bad}"
    assert (
        "engine.jobs" in reached and "studio.runner" in reached
    )  # the walk did reach the job client


def test_importing_every_studio_module_loads_no_model_library():
    code = (
        "import importlib, pkgutil, sys, studio\n"
        "for m in pkgutil.walk_packages(studio.__path__, 'studio.'):\n"
        "    importlib.import_module(m.name)\n"
        f"print(sorted(m for m in {FORBIDDEN!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"

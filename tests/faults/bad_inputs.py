"""Bad inputs for the fault-injection suite: each is run through the real CLI entry point (in-process,
so 70 of them cost seconds) and sorted into refused cleanly / misleading / traceback / wrongly succeeded.

A case names the words a clean refusal must contain (what is wrong, where). A case may also check a
side effect that would make a refusal a wrong success (a revision left behind, a database made).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import sqlite3
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from engine.workspace import init_workspace

Setup = Callable[[Path, Path], list[str]]  # (workspace root, scratch folder) -> sdrl arguments


@dataclass(frozen=True)
class Case:
    name: str
    setup: Setup
    must_say: tuple[str, ...] = ()
    """Words (any case) a clean refusal names; missing ones make it misleading."""
    expect_ok: bool = False
    """An input that must be accepted (a read-only workspace inspected, say)."""
    side_effect: Callable[[Path], str] | None = None
    """Returns what went wrong behind the exit code ('' if nothing): counts as a wrong success."""


@dataclass
class Result:
    case: Case
    verdict: str  # refused | ok | misleading | traceback | wrong_success
    detail: str = ""
    output: str = field(default="", repr=False)


def run_cli(args: list[str]) -> tuple[int, str, str]:
    """The real `sdrl` main(), in this process; an exception that escapes it is a traceback."""
    from engine.cli.main import main
    from engine.store import CREATED_REVISIONS

    CREATED_REVISIONS.clear()
    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(args)
        except SystemExit as exc:
            code = exc.code
        finally:  # commands install their Ctrl-C handlers; the caller keeps its own
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
    return (code if isinstance(code, int) else 1), out.getvalue(), err.getvalue()


def classify(case: Case, root: Path, scratch: Path) -> Result:
    args = case.setup(root, scratch)
    try:
        code, out, err = run_cli(["-w", str(root), *args] if "-w" not in args else args)
    except Exception:  # noqa: BLE001 - the suite counts whatever escapes as a traceback
        return Result(case, "traceback", traceback.format_exc(limit=3))
    shown = out + err
    wrong = case.side_effect(root) if case.side_effect else ""
    if "Traceback (most recent call last)" in shown:
        return Result(case, "traceback", err[-400:], shown)
    if case.expect_ok:
        return Result(case, "ok" if code == 0 and not wrong else "misleading", wrong or err, shown)
    if code == 0 or wrong:
        return Result(case, "wrong_success", wrong or out[-300:], shown)
    said = shown.lower()
    missing = [w for w in case.must_say if w.lower() not in said]
    if missing:
        return Result(case, "misleading", f"does not say {missing}: {err[-300:]}", shown)
    return Result(case, "refused", "", shown)


# -- helpers for setups -------------------------------------------------------------------------
def _task(root: Path, old: str, new: str) -> None:
    path = root / "task.toml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _setting(section: str, line: str, *args: str) -> Setup:
    """Set `key = value` in [section]: the existing line is replaced, else the line is added."""

    def setup(root: Path, scratch: Path) -> list[str]:
        path = root / "task.toml"
        head, _, body = path.read_text().partition(f"[{section}]\n")
        key = line.split("=")[0].strip()
        replaced = re.sub(rf"^{re.escape(key)}\s*=.*$", line, body, count=1, flags=re.M)
        body = replaced if replaced != body else f"{line}\n{body}"
        path.write_text(f"{head}[{section}]\n{body}")
        return list(args) or ["task", "check"]

    return setup


def _setting_top(line: str) -> Setup:
    """Replace a top-level `key = value` line of task.toml (the template's value may change)."""

    def setup(root: Path, scratch: Path) -> list[str]:
        path = root / "task.toml"
        key = line.split("=")[0].strip()
        text, n = re.subn(rf"^{re.escape(key)}\s*=.*$", line, path.read_text(), count=1, flags=re.M)
        assert n == 1, key
        path.write_text(text)
        return ["status"]

    return setup


def _file(name: str, data: bytes | str, *args: str) -> Setup:
    """Write `data` to scratch/name; {file} in args becomes its path."""

    def setup(root: Path, scratch: Path) -> list[str]:
        path = scratch / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
        return [a.replace("{file}", str(path)) for a in args]

    return setup


def _args(*args: str) -> Setup:
    return lambda root, scratch: [a.replace("{root}", str(root)) for a in args]


def _revisions(root: Path) -> int:
    conn = sqlite3.connect(root / "sdrl.db")
    try:
        return int(conn.execute("SELECT COUNT(*) FROM revisions").fetchone()[0])
    finally:
        conn.close()


def _no_new_revision(root: Path) -> str:
    # the workspace starts with one revision; the setups change task.toml, so a second is a leftover
    return "" if _revisions(root) == 1 else f"left {_revisions(root) - 1} new task revision(s)"


def _edited_then(*args: str) -> Setup:
    def setup(root: Path, scratch: Path) -> list[str]:
        _task(root, "n_samples = 20", "n_samples = 21")
        return list(args)

    return setup


def _db(state: str, *args: str) -> Setup:
    def setup(root: Path, scratch: Path) -> list[str]:
        db = root / "sdrl.db"
        for extra in ("-wal", "-shm"):
            Path(f"{db}{extra}").unlink(missing_ok=True)
        if state == "missing":
            db.unlink()
        elif state == "empty":
            db.write_bytes(b"")
        elif state == "garbage":
            db.write_bytes(b"not a database at all " * 200)
        elif state == "newer":
            conn = sqlite3.connect(db)
            conn.execute("PRAGMA user_version=999")
            conn.close()
        return list(args) or ["status"]

    return setup


def _no_db_made(root: Path) -> str:
    db = root / "sdrl.db"
    if db.exists() and db.stat().st_size > 0:
        with contextlib.suppress(sqlite3.Error):
            conn = sqlite3.connect(db)
            tables = conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
            conn.close()
            if tables:
                return "a workspace database was silently (re)created"
    return ""


def _read_only(*args: str) -> Setup:
    def setup(root: Path, scratch: Path) -> list[str]:
        for path in [root, *root.iterdir()]:
            os.chmod(path, 0o555 if path.is_dir() else 0o444)
        return list(args)

    return setup


def _bad_gguf(kind: str) -> Setup:
    def setup(root: Path, scratch: Path) -> list[str]:
        path = scratch / "model.gguf"
        if kind == "truncated":
            from engine.models import resolve_model

            path.write_bytes(resolve_model("gemma3-270m").path.read_bytes()[:2_000_000])
        else:
            path.write_text("this is not a model")
        _task(root, 'base = "gemma3-270m"', f'base = "{path}"')
        return ["task", "check"]

    return setup


LATIN1 = "Qu\xe9 es 2+2?".encode("latin-1")
GOOD_RECORD = json.dumps({"question": "1+1?", "answer": "#### 2"})

CASES: list[Case] = [
    # -- the task definition ---------------------------------------------------------------------
    Case("votes = 0", _setting("generation", "votes = 0"), ("votes",)),
    Case("votes = -1", _setting("generation", "votes = -1"), ("votes",)),
    Case("training.max_steps = -3", _setting("training", "max_steps = -3"), ("max_steps",)),
    Case("training.max_steps = 0", _setting("training", "max_steps = 0"), ("max_steps",)),
    Case("scoring.k = 0", _setting("scoring", "k = 0"), ("k",)),
    Case("generation.n_samples = 0", _setting("generation", "n_samples = 0"), ("n_samples",)),
    Case("temperature = 5", _setting("generation", "temperature = 5.0"), ("temperature",)),
    Case("unknown setting", _setting("generation", "vots = 3"), ("vots",)),
    Case("answer_type bogus", _setting_top('answer_type = "bogus"'), ("answer_type",)),
    Case("name empty", _setting_top('name = ""'), ("name",)),
    Case(
        "TOML syntax error",
        lambda r, s: (_task(r, "[scoring]", "[scoring"), ["status"])[1],
        ("task.toml",),
    ),
    Case(
        "task.toml not UTF-8",
        lambda r, s: ((r / "task.toml").write_bytes(LATIN1), ["status"])[1],
        ("utf-8",),
    ),
    Case(
        "task.toml missing",
        lambda r, s: ((r / "task.toml").unlink(), ["status"])[1],
        ("task.toml",),
    ),
    Case("base model missing", _setting("models", 'base = "/nonexistent/model.gguf"'), ("model",)),
    Case("base model not a GGUF", _bad_gguf("text"), ("gguf",)),
    # -- options ---------------------------------------------------------------------------------
    Case("generate --votes 0", _args("generate", "--votes", "0"), ("votes",)),
    Case("label --votes 0", _args("label", "--votes", "0"), ("votes",)),
    Case("run --votes 0", _args("run", "--votes", "0"), ("votes",)),
    Case("generate -n 0", _args("generate", "-n", "0"), ("-n",)),
    Case("score -k 0", _args("score", "-k", "0"), ("k",)),
    Case("eval --limit 0", _args("eval", "--benchmark", "gsm8k", "--limit", "0"), ("limit",)),
    Case("eval --limit -5", _args("eval", "--benchmark", "gsm8k", "--limit", "-5"), ("limit",)),
    Case("select --band 0.8 0.2", _args("select", "--band", "0.8", "0.2"), ("band",)),
    Case("select -m 0", _args("select", "-m", "0"), ("m",)),
    Case("select --rule bogus", _args("select", "--rule", "bogus"), ("rule",)),
    Case("samples show 99999", _args("samples", "show", "99999"), ("99999",)),
    Case("samples show abc", _args("samples", "show", "abc"), ("abc",)),
    Case("runs show nope", _args("runs", "show", "nope"), ("nope",)),
    Case("runs resume nope", _args("runs", "resume", "nope"), ("nope",)),
    Case("attach nope", _args("attach", "nope"), ("nope",)),
    Case("task diff 1 99", _args("task", "diff", "1", "99"), ("99",)),
    Case("corpus search -k 0", _args("corpus", "search", "bus", "-k", "0"), ("-k",)),
    Case("train with nothing selected", _args("train", "--check"), ("select",)),
    Case("export dataset with nothing selected", _args("export", "dataset"), ("select",)),
    Case("export merged nope", _args("export", "merged", "nope"), ("nope",)),
    # -- benchmark files -------------------------------------------------------------------------
    Case(
        "eval missing benchmark",
        _args("eval", "--benchmark", "/nonexistent.jsonl"),
        ("nonexistent",),
    ),
    Case(
        "eval binary benchmark",
        _file("bench.jsonl", b"\x00\xff\xfe\x89PNG" * 50, "eval", "--benchmark", "{file}"),
        ("bench.jsonl", "utf-8"),
    ),
    Case(
        "eval Latin-1 benchmark",
        _file(
            "latin.jsonl", GOOD_RECORD.encode() + b"\n" + LATIN1, "eval", "--benchmark", "{file}"
        ),
        ("latin.jsonl", "line 2"),
    ),
    Case(
        "eval broken benchmark line",
        _file(
            "broken.jsonl",
            f"{GOOD_RECORD}\n{GOOD_RECORD}\n{{oops\n",
            "eval",
            "--benchmark",
            "{file}",
        ),
        ("broken.jsonl", "line 3"),
    ),
    Case(
        "eval empty benchmark",
        _file("empty.jsonl", "", "eval", "--benchmark", "{file}"),
        ("empty.jsonl",),
    ),
    Case(
        "eval benchmark without the fields",
        _file("nofield.jsonl", '{"q": "1+1?"}\n', "eval", "--benchmark", "{file}"),
        ("question", "--map"),
    ),
    Case(
        "eval --benchmark and --split",
        _file("b.jsonl", GOOD_RECORD, "eval", "--benchmark", "{file}", "--split", "val"),
        ("split",),
    ),
    Case(
        "eval --map bad",
        _file("m.jsonl", GOOD_RECORD, "eval", "--benchmark", "{file}", "--map", "nonsense"),
        ("map",),
    ),
    # -- corpus files ----------------------------------------------------------------------------
    Case(
        "corpus add missing path",
        _args("corpus", "add", "/nonexistent/notes.txt"),
        ("no such file",),
    ),
    Case("corpus add empty file", _file("empty.txt", "", "corpus", "add", "{file}"), ("empty",)),
    Case(
        "corpus add binary",
        _file("bin.txt", b"\x00\x01\x02" * 100, "corpus", "add", "{file}"),
        ("binary",),
    ),
    Case("corpus add Latin-1", _file("latin.md", LATIN1, "corpus", "add", "{file}"), ("utf-8",)),
    Case(
        "corpus add JSONL without the field",
        _file("nofield.jsonl", '{"body": "x"}\n', "corpus", "add", "{file}"),
        ("--field",),
    ),
    Case(
        "corpus add JSONL of broken lines",
        _file("broken.jsonl", "{oops\n{also bad\n", "corpus", "add", "{file}"),
        ("lines 1, 2", "json"),
    ),
    Case(
        "corpus add unsupported type",
        _file("photo.png", b"\x89PNG", "corpus", "add", "{file}"),
        (".png",),
    ),
    # -- the workspace and its database -----------------------------------------------------------
    Case("sdrl.db missing (status)", _db("missing"), ("sdrl.db",), side_effect=_no_db_made),
    Case(
        "sdrl.db missing (generate)",
        _db("missing", "generate", "-n", "1"),
        ("sdrl.db",),
        side_effect=_no_db_made,
    ),
    Case("sdrl.db empty (status)", _db("empty"), ("sdrl.db", "empty"), side_effect=_no_db_made),
    Case(
        "sdrl.db empty (samples list)",
        _db("empty", "samples", "list"),
        ("empty",),
        side_effect=_no_db_made,
    ),
    Case("sdrl.db not a database", _db("garbage"), ("not an sdrl database",)),
    Case("sdrl.db from a newer sdrl", _db("newer"), ("newer",)),
    Case("not a workspace", lambda r, s: ["-w", str(s), "status"], ("not an sdrl workspace",)),
    Case(
        "workspace does not exist",
        lambda r, s: ["-w", str(s / "nope"), "status"],
        ("does not exist",),
    ),
    Case("workspace is a file", _file("f.txt", "x", "-w", "{file}", "status"), ("f.txt",)),
    Case("init over a workspace", lambda r, s: ["init", str(r)], ("already a workspace",)),
    Case(
        "init unknown template", lambda r, s: ["init", str(s / "new"), "-t", "nope"], ("template",)
    ),
    Case(
        "init into a non-empty folder",
        lambda r, s: (
            (s / "full").mkdir(),
            (s / "full" / "x").write_text("x"),
            ["init", str(s / "full")],
        )[2],
        ("not empty",),
    ),
    Case("generate in a read-only workspace", _read_only("generate", "-n", "1"), ("read-only",)),
    # -- no revision left behind, nothing written by a read -------------------------------------
    Case(
        "probe with no samples leaves no revision",
        _edited_then("probe"),
        ("sample",),
        side_effect=_no_new_revision,
    ),
    Case(
        "select with nothing scored leaves no revision",
        _edited_then("select"),
        (),
        side_effect=_no_new_revision,
    ),
    Case(
        "status after an edit writes nothing",
        _edited_then("status"),
        expect_ok=True,
        side_effect=_no_new_revision,
    ),
    # -- a read-only (archived) workspace can be inspected ---------------------------------------
    Case("read-only: status", _read_only("status"), expect_ok=True),
    Case("read-only: stats", _read_only("stats"), expect_ok=True),
    Case("read-only: samples list", _read_only("samples", "list"), expect_ok=True),
    Case("read-only: corpus search", _read_only("corpus", "search", "bus fare"), expect_ok=True),
]

SLOW_CASES: list[Case] = [
    Case("base model a truncated GGUF (transformers)", _bad_gguf("truncated"), ("truncated",)),
]


def fresh_workspace(folder: Path) -> Path:
    ws = init_workspace(folder / "ws", "demo")
    ws.close()
    (folder / "scratch").mkdir()
    return ws.root


def restore_writable(root: Path) -> None:
    for path in [root, *root.iterdir()] if root.exists() else []:
        with contextlib.suppress(OSError):
            os.chmod(path, 0o755 if path.is_dir() else 0o644)

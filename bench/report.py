"""One row per measured figure (`Result`), the table they make, and the files it is written to.

Every benchmark module returns a list of `Result`s. A benchmark that runs apart from `python -m bench`
(the learning study) saves its rows with `save_rows("learning", rows)`; the runner reads them back
with `load_rows`, so they land in the same table, `bench/results.json` and `bench/RESULTS.md`.
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS_JSON = BENCH_DIR / "results.json"
RESULTS_MD = BENCH_DIR / "RESULTS.md"


@dataclass(frozen=True)
class Result:
    """One measured figure against its baseline and goal.

    `ours` and `baseline` are shown as given (numbers carry their unit). `ratio` is ours / baseline unless
    the goal says otherwise ("x faster"); `met` is None when the row has no goal.
    """

    bench: str
    measure: str
    ours: str
    baseline: str = "-"
    ratio: float | None = None
    goal: str = "-"
    met: bool | None = None
    spread: str = ""
    """How much the ratio moved across rounds, e.g. "0.93-0.99 over 3 rounds"."""
    note: str = ""
    extra: dict[str, object] = field(default_factory=dict)
    """Raw figures (per-round values, counts) kept in results.json for whoever checks the table."""


def spread(values: Sequence[float], digits: int = 2, unit: str = "rounds") -> str:
    """ "lo-hi over N rounds" of a list of per-round (or per-sample) ratios."""
    if not values:
        return ""
    if len(values) == 1:
        return f"1 {unit.rstrip('s')}"
    return f"{min(values):.{digits}f}-{max(values):.{digits}f} over {len(values)} {unit}"


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def at_least(value: float, goal: float) -> bool:
    return value >= goal


def at_most(value: float, goal: float) -> bool:
    return value <= goal


# -- rows saved by benchmarks that run on their own --------------------------------------------------
def rows_file(name: str) -> Path:
    return BENCH_DIR / f"{name}.results.json"


def write_rows(path: Path, rows: Sequence[Result]) -> Path:
    """Rows with the date and machine, as JSON (written whole or not at all)."""
    payload = {**machine(), "rows": [asdict(r) for r in rows]}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_rows(path: Path) -> list[Result]:
    payload = json.loads(path.read_text(encoding="utf-8"))
    return [Result(**raw) for raw in payload.get("rows", [])]


def save_rows(name: str, rows: Sequence[Result]) -> Path:
    """Write a separately run benchmark's rows (with the date and machine) for `python -m bench` to include."""
    return write_rows(rows_file(name), rows)


def finish(rows: Sequence[Result], out: str | None) -> None:
    """The end of a benchmark's `main`: print its rows as a table; write them to `out` (for the runner) if given."""
    print(text_table(rows))
    for row in rows:
        if row.note:
            print(f"- {row.bench}: {row.measure}: {row.note}")
    if out:
        write_rows(Path(out), rows)


def load_rows(name: str) -> list[Result]:
    """Rows saved by `save_rows(name, ...)`, each noting when they were measured; [] when there are none."""
    path = rows_file(name)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    when = f"measured {payload.get('date', '?')} at {str(payload.get('commit', '?'))[:8]}"
    rows = []
    for raw in payload.get("rows", []):
        row = Result(**raw)
        note = f"{row.note}; {when}" if row.note else when
        rows.append(Result(**{**asdict(row), "note": note}))
    return rows


# -- the machine and the table ------------------------------------------------------------------------
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip() + ("+changes" if dirty else "")


def machine() -> dict[str, object]:
    import os

    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "commit": commit(),
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }


def _load(values: object) -> str:
    return (
        ", ".join(f"{v:.1f}" for v in values)
        if isinstance(values, list | tuple) and values
        else "?"
    )


def _cell(row: Result, name: str) -> str:
    if name == "ratio":
        if row.ratio is None:
            return "-"
        text = f"{row.ratio:.3g}"
        return f"{text} ({row.spread})" if row.spread else text
    if name == "met":
        return "-" if row.met is None else ("yes" if row.met else "**MISSED**")
    return str(getattr(row, name))


COLUMNS = ("measure", "ours", "baseline", "ratio", "goal", "met")


def markdown_table(rows: Sequence[Result]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        cells = [_cell(row, c).replace("|", "/") for c in COLUMNS]
        cells[0] = f"{row.bench}: {row.measure}"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def text_table(rows: Sequence[Result]) -> str:
    grid = [list(COLUMNS)]
    for row in rows:
        cells = [_cell(row, c).replace("**", "") for c in COLUMNS]
        cells[0] = f"{row.bench}: {row.measure}"
        grid.append(cells)
    widths = [max(len(r[i]) for r in grid) for i in range(len(COLUMNS))]
    out = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in grid]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def write_report(
    rows: Sequence[Result],
    *,
    quick: bool,
    failures: Sequence[str] = (),
    load_at_start: Sequence[float] = (),
    seconds: float | None = None,
) -> None:
    """bench/results.json (everything, machine-readable) and bench/RESULTS.md (the table and its notes)."""
    info = {
        **machine(),
        "mode": "quick" if quick else "full",
        "load_average_at_start": list(load_at_start),
        "seconds": round(seconds) if seconds is not None else None,
    }
    RESULTS_JSON.write_text(
        json.dumps(
            {**info, "failures": list(failures), "rows": [asdict(r) for r in rows]}, indent=2
        )
        + "\n",
        encoding="utf-8",
    )
    notes = [f"- **{r.bench}: {r.measure}**: {r.note}" for r in rows if r.note]
    parts = [
        "# Benchmark results",
        "",
        f"`python -m bench{' --quick' if quick else ''}` on {info['date']}; CPU: {info['cpu']} "
        f"({info['cores']} logical cores); Python {info['python']}; commit `{info['commit']}`"
        + (f"; took {info['seconds']} s" if seconds is not None else "")
        + ".",
        "",
        f"Load average (1, 5, 15 min) at the start {_load(load_at_start)}, at the end "
        f"{_load(info['load_average'])}: other work on the machine slows both sides of a ratio alike, "
        "but widens its spread and inflates the absolute figures.",
        "",
        "Each ratio comes from one process that ran both sides, alternating; the spread is the lowest "
        "and highest per-round ratio. Rows without a baseline compare against a fixed target.",
        "",
        markdown_table(rows),
    ]
    if notes:
        parts += ["", "## Notes", "", *notes]
    if failures:
        parts += ["", "## Benchmarks that failed to run", "", *(f"- {f}" for f in failures)]
    RESULTS_MD.write_text("\n".join(parts) + "\n", encoding="utf-8")

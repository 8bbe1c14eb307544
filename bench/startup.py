"""Cold start: `sdrl --help` and `import studio` in fresh interpreters, against a bare `python -c pass`.

The three commands run in rotating order, 7 times each; medians shown.

    python -m bench.startup [--runs 7]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from bench.report import REPO, Result, finish, median, spread

GOAL_S = 0.5
COMMANDS = {
    "pass": "pass",
    "help": "import sys\nfrom engine.cli.main import main\nsys.argv = ['sdrl', '--help']\n"
    "try:\n    main()\nexcept SystemExit:\n    pass",
    "studio": "import studio, studio.app",
}


def timed(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=REPO)
    return time.perf_counter() - start


def run(quick: bool = False, runs: int = 7) -> list[Result]:
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    names = list(COMMANDS)
    for i in range(runs):
        for name in names[i % 3 :] + names[: i % 3]:
            times[name].append(timed(COMMANDS[name]))
    base = median(times["pass"])
    rows = []
    for name, label in (("help", "sdrl --help"), ("studio", "import studio, studio.app")):
        value = median(times[name])
        ratios = [t / b for t, b in zip(times[name], times["pass"], strict=True)]
        rows.append(
            Result(
                "startup",
                f"{label}, fresh interpreter",
                f"{1000 * value:.0f} ms",
                f"{1000 * base:.0f} ms (python -c pass)",
                value / base,
                f"< {1000 * GOAL_S:.0f} ms",
                value < GOAL_S,
                spread(ratios, 1),
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=None, help="also write the rows here (JSON)")
    args = parser.parse_args()
    finish(run(args.quick, args.runs), args.out)


if __name__ == "__main__":
    main()

"""Cold start: `sdrl --help` and `import studio` in fresh interpreters, against a bare `python -c pass` baseline."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

RUNS = 7


def cold(code: str) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    baseline = cold("pass")
    help_time = cold(
        "from engine.cli.main import main\nimport sys\nsys.argv=['sdrl','--help']\ntry:\n main()\nexcept SystemExit:\n pass"
    )
    studio_time = cold("import studio, studio.app")
    print(f"python -c pass          {baseline * 1000:7.0f} ms (baseline)")
    print(
        f"sdrl --help             {help_time * 1000:7.0f} ms  ratio {help_time / baseline:.1f}x  goal < 500 ms: {'ok' if help_time < 0.5 else 'MISSED'}"
    )
    print(
        f"import studio           {studio_time * 1000:7.0f} ms  ratio {studio_time / baseline:.1f}x  goal < 500 ms: {'ok' if studio_time < 0.5 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()

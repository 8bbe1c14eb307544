"""`sdrl-studio [WORKSPACE]`: open the studio on a workspace (the bundled demo by default)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio import SCREENS


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="sdrl-studio", description="Terminal studio for Synthetic Data RL."
    )
    parser.add_argument(
        "workspace", nargs="?", help="workspace folder (default: the demo workspace)"
    )
    parser.add_argument(
        "--screen",
        choices=SCREENS,
        default=None,
        help="screen to open on (default: Task for a new workspace or a broken task.toml, else Pipeline)",
    )
    parser.add_argument(
        "--poll",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="how often live views re-read the store (raise it on a slow SSH link; default 1)",
    )
    args = parser.parse_args(argv)

    from engine.errors import ConfigError, SdrlError
    from engine.workspace import demo_workspace, is_workspace, open_workspace

    task_broken = False
    try:
        if args.workspace:
            workspace = open_workspace(args.workspace)
        elif is_workspace(Path(".")):
            workspace = open_workspace(".")
        else:
            workspace = demo_workspace()
        try:
            workspace.current_revision()
        except ConfigError:
            task_broken = True  # the Task screen shows the errors and lets them be fixed in the app
    except SdrlError as exc:
        print(f"error: {exc.title}", file=sys.stderr)
        if exc.hint:
            print(f"  fix: {exc.hint}", file=sys.stderr)
        sys.exit(exc.exit_code)

    from studio.app import StudioApp, opening_screen

    start = args.screen or ("task" if task_broken else opening_screen(workspace))
    StudioApp(workspace, start=start, poll_interval=max(0.2, args.poll)).run()


if __name__ == "__main__":
    main()

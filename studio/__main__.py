"""`sdrl-studio [WORKSPACE]`: open the studio on a workspace (the bundled demo by default)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="sdrl-studio", description="Terminal studio for Synthetic Data RL.")
    parser.add_argument("workspace", nargs="?", help="workspace folder (default: the demo workspace)")
    args = parser.parse_args(argv)

    from engine.errors import SdrlError
    from engine.workspace import demo_workspace, is_workspace, open_workspace

    try:
        if args.workspace:
            workspace = open_workspace(args.workspace)
        elif is_workspace(Path(".")):
            workspace = open_workspace(".")
        else:
            workspace = demo_workspace()
        workspace.current_revision()
    except SdrlError as exc:
        print(f"error: {exc.title}", file=sys.stderr)
        if exc.hint:
            print(f"  fix: {exc.hint}", file=sys.stderr)
        sys.exit(exc.exit_code)

    from studio.app import StudioApp

    StudioApp(workspace).run()


if __name__ == "__main__":
    main()

"""`python -m engine.jobs.preview_worker WORKSPACE`: a long-lived process that runs previews for the studio.

It speaks JSON lines. In on stdin: `{"k": 3, "seed": null}` starts a preview, `{"stop": true}` stops
it between questions. Out on stdout: every event of the preview (`engine.events.to_dict`), then
`{"type": "Idle"}`; a run-level failure is `{"type": "Error", "title": ..., "hint": ...}`. The
instructor stays loaded between previews, so a warm worker streams its first token at once.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from engine.errors import SdrlError
from engine.events import to_dict
from engine.jobs.stages import stage_function
from engine.stages import StageContext
from engine.workspace import Workspace


def _send(out: TextIO, message: dict[str, Any]) -> None:
    out.write(json.dumps(message, default=str) + "\n")
    out.flush()


def read_requests(
    source: TextIO, requests: queue.Queue[dict[str, Any] | None], stop: threading.Event
) -> None:
    """Stdin reader: a stop request acts at once (the preview checks it between questions)."""
    for line in source:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if message.get("stop"):
            stop.set()
        else:
            requests.put(message)
    requests.put(None)  # the studio closed our stdin: end


def serve(root: Path, source: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    workspace = Workspace(root)
    preview = stage_function("preview")
    requests: queue.Queue[dict[str, Any] | None] = queue.Queue()
    stop = threading.Event()
    threading.Thread(target=read_requests, args=(source, requests, stop), daemon=True).start()
    _send(out, {"type": "Ready"})
    while (request := requests.get()) is not None:
        stop.clear()
        try:
            # opening the context records an edited task.toml as a revision first: a preview shows its effect
            ctx = StageContext.open(workspace, should_stop=stop.is_set)
            for event in preview(ctx, int(request.get("k", 3)), seed=request.get("seed")):
                _send(out, to_dict(event))
        except SdrlError as exc:
            _send(out, {"type": "Error", "title": exc.title, "hint": exc.hint})
        except Exception as exc:  # noqa: BLE001 - one failed preview must not end the worker
            _send(
                out,
                {
                    "type": "Error",
                    "title": f"{type(exc).__name__}: {exc}",
                    "hint": "this is a bug in sdrl; please report it with the steps that led here",
                },
            )
        _send(out, {"type": "Idle"})
    workspace.close()
    return 0


if __name__ == "__main__":
    sys.exit(serve(Path(sys.argv[1])))

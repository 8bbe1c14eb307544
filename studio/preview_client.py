"""The studio's side of the preview worker: a child process that keeps the instructor loaded and streams events.

Requests go to its stdin, events come back as JSON lines read by a thread into a buffer that the
screen drains on a timer. If the worker dies (a native crash in the model), the screen gets an
error naming the cause and the studio stays up; the next request starts a fresh worker. Closing
kills the worker at once: quitting the studio never waits for a model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from engine.crash import describe_exit
from engine.events import from_dict


class PreviewClient:
    def __init__(self, root: Path, engine: str = "llama.cpp") -> None:
        self.root = Path(root)
        self.engine = engine
        self.proc: subprocess.Popen[str] | None = None
        self.busy = False
        self._buffer: list[Any] = []
        self._lock = threading.Lock()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        """Start the worker (imports the preview code; the instructor loads on the first request)."""
        if self.alive:
            return
        repo = str(Path(__file__).resolve().parent.parent)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH", "")) if p),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "engine.jobs.preview_worker", str(self.root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            cwd=self.root,
            env=env,
            start_new_session=True,  # the terminal's Ctrl-C belongs to the studio, not the model
        )
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()

    def request(self, k: int, seed: int | None = None) -> None:
        self.start()
        self.busy = True
        self._write({"k": k, "seed": seed})

    def stop(self) -> None:
        if self.alive:
            self._write({"stop": True})

    def _write(self, message: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # it died: the reader reports how

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                data = json.loads(line)
            except ValueError:
                continue
            item: Any = data if data.get("type") in ("Ready", "Idle", "Error") else None
            if item is None:
                try:
                    item = from_dict(data)
                except (KeyError, TypeError):
                    continue
            with self._lock:
                self._buffer.append(item)
        returncode = proc.wait()
        death = describe_exit(returncode, "the preview", self.engine)
        if death is not None or returncode:
            title = death.title if death else f"the preview worker exited with status {returncode}"
            hint = death.hint if death else "press g to start it again"
            with self._lock:
                self._buffer += [
                    {"type": "Error", "title": title, "hint": hint},
                    {"type": "Idle"},
                ]

    def drain(self) -> list[Any]:
        """Events and worker messages ({"type": ...} dicts) that arrived since the last drain."""
        with self._lock:
            items, self._buffer = self._buffer, []
        for item in items:
            if isinstance(item, dict) and item["type"] in ("Idle", "Error"):
                self.busy = False if item["type"] == "Idle" else self.busy
        return items

    def close(self) -> None:
        """Kill the worker without waiting (a model mid-token would otherwise hold up quitting)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        self.proc = None

"""Slot claims: a process claims a slot before it spends model time on it, so two processes that run
the same stage at once never generate the same slot twice. A claim is an flock on a small file in
the workspace's `.claims/` folder; the kernel drops it when the process ends, even by SIGKILL."""

from __future__ import annotations

import fcntl
import hashlib
from pathlib import Path
from typing import IO


class SlotClaims:
    """Claims on slot keys of one stage and revision; `claim` never waits (another holder wins)."""

    def __init__(self, workspace_root: Path, stage: str, revision_id: int) -> None:
        self.folder = Path(workspace_root) / ".claims"
        self.prefix = f"{stage}-r{revision_id}-"
        self._held: dict[str, IO[bytes]] = {}

    def _path(self, key: str) -> Path:
        return self.folder / (self.prefix + hashlib.sha1(key.encode()).hexdigest()[:16])

    def claim(self, key: str) -> bool:
        """True if this process now holds `key` (or already did); False if another process does."""
        if key in self._held:
            return True
        self.folder.mkdir(exist_ok=True)
        handle = open(self._path(key), "a+b")  # noqa: SIM115 - held open while the claim lasts
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._held[key] = handle
        return True

    def release(self, key: str) -> None:
        handle = self._held.pop(key, None)
        if handle is not None:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def release_all(self) -> None:
        for key in list(self._held):
            self.release(key)

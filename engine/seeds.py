"""One way to derive per-item seeds: the same task seed, stage and item always give the same seed."""

from __future__ import annotations

import hashlib

MAX_SEED = 0x7FFFFFFF
"""Seeds stay below 2**31: llama.cpp, vLLM and torch all accept that range."""


def derive_seed(base: int, stage: str, *parts: int) -> int:
    """A seed for one item of one stage (e.g. `derive_seed(task_seed, "generate", slot, attempt)`).

    Hashing rather than arithmetic keeps seeds of different stages and items from colliding."""
    key = ":".join([str(base), stage, *map(str, parts)]).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little") & MAX_SEED

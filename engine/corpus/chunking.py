"""Split text into overlapping passages, and turn any user text into safe plain query terms."""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W_]+")
MAX_QUERY_TERMS = 256


def chunk_text(text: str, chunk_chars: int, overlap: int) -> list[str]:
    """Passages of at most `chunk_chars` characters, consecutive ones sharing about `overlap` characters.

    Breaks prefer a paragraph end, then a sentence end, then a space, in the last third of a window.
    """
    if overlap >= chunk_chars:
        raise ValueError("overlap must be smaller than chunk_chars")
    text = text.strip()
    if not text:
        return []
    chunks: list[str] = []
    start = 0
    while start < len(text):
        end = min(start + chunk_chars, len(text))
        if end < len(text):
            end = _break_point(text, start, end)
        piece = text[start:end].strip()
        if piece:
            chunks.append(piece)
        if end >= len(text):
            break
        nxt = max(end - overlap, start + 1)
        # begin the next passage at a word boundary
        while nxt < end and not text[nxt - 1].isspace():
            nxt += 1
        start = nxt if nxt < end else end
    return chunks


def _break_point(text: str, start: int, end: int) -> int:
    floor = start + (end - start) * 2 // 3
    for sep in ("\n\n", ". ", "\n", " "):
        idx = text.rfind(sep, floor, end)
        if idx > start:
            return idx + len(sep)
    return end


def query_terms(text: str) -> list[str]:
    """Plain lower-cased word terms: quotes, colons, brackets, operators and the like cannot reach the query parser."""
    return _WORD.findall(text.casefold())[:MAX_QUERY_TERMS]

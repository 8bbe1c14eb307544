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


STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
    ]
)
"""English function words. They match most passages, so they add little to BM25's ranking but
make every query walk most of the index; queries drop them (as bm25s does)."""


def query_terms(text: str) -> list[str]:
    """Plain lower-cased word terms: quotes, colons, brackets, operators and the like cannot reach the
    query parser. Stop words are dropped, unless the query has nothing else."""
    words = _WORD.findall(text.casefold())
    content = [w for w in words if w not in STOP_WORDS]
    return (content or words)[:MAX_QUERY_TERMS]

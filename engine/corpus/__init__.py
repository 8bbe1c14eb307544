"""The document corpus: files chunked into passages (SQLite `documents`/`passages`) and a BM25 index (tantivy) over them."""

from engine.corpus.chunking import chunk_text, query_terms
from engine.corpus.index import Hit, PassageIndex, search
from engine.corpus.ingest import FileResult, ingest, iter_ingest

__all__ = [
    "FileResult",
    "Hit",
    "PassageIndex",
    "chunk_text",
    "ingest",
    "iter_ingest",
    "query_terms",
    "search",
]

"""A MedQuAD-sized question-answer corpus generated deterministically, so corpus tests need no data outside the repo.

Same scale as MedQuAD (16,407 records, about 26 MB of jsonl): Zipf-distributed made-up words, one
planted record per needle so a search has one right answer.
"""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

RECORDS = 16_407
WORDS_PER_ANSWER = (100, 260)
VOCABULARY = 6_000
QTYPES = ("information", "symptoms", "causes", "treatment", "outlook", "inheritance")
NEEDLE_FOCUS = "Adult Acute Lymphoblastic Leukemia"
NEEDLE_ANSWER = (
    "Signs and symptoms of adult acute lymphoblastic leukemia include fever, weakness and "
    "tiredness, easy bruising or bleeding, and pain in the bones or belly."
)
_SYLLABLES = ("ka", "lo", "mi", "ne", "pu", "ra", "si", "to", "vu", "xe", "zo", "bri", "dra", "ple")


def _vocabulary(rng: random.Random) -> list[str]:
    words: set[str] = set()
    while len(words) < VOCABULARY:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    ranked = sorted(words)
    rng.shuffle(ranked)  # rank (frequency) independent of spelling
    return ranked


def write_qa_corpus(path: Path, records: int = RECORDS, seed: int = 0) -> Path:
    """Write `records` jsonl records {id, focus, qtype, question, answer}; the same seed gives the same bytes."""
    rng = random.Random(seed)
    vocabulary = _vocabulary(rng)
    cumulative = list(itertools.accumulate(1 / rank for rank in range(1, len(vocabulary) + 1)))
    needle_at = records // 2
    with path.open("w", encoding="utf-8") as out:
        for n in range(records):
            qtype = QTYPES[n % len(QTYPES)]
            if n == needle_at:
                focus, answer = NEEDLE_FOCUS, NEEDLE_ANSWER
            else:
                focus = " ".join(w.capitalize() for w in rng.choices(vocabulary[500:], k=2))
                words = rng.choices(
                    vocabulary, cum_weights=cumulative, k=rng.randint(*WORDS_PER_ANSWER)
                )
                answer = f"{focus} (record {n}): " + " ".join(words) + "."
            question = f"What are the {qtype} of {focus} ?"
            record = {"id": f"syn{n:05d}", "focus": focus, "qtype": qtype, "question": question}
            out.write(json.dumps({**record, "answer": answer}) + "\n")
    return path

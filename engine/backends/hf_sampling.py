"""Exact temperature + top-p for a huge vocabulary without sorting it: the nucleus is found in a top-k slice.

HF's TopPLogitsWarper sorts the whole vocabulary every step; with Gemma's 262k tokens and 32 rows that
is ~0.7 s per step on a CPU, more than the model itself. The nucleus almost always lies within the few
hundred most likely tokens, so we look there first and sort the full row only when it does not.
"""

from __future__ import annotations

from typing import Any

SLICE = 512


def nucleus_processor(temperature: float, top_p: float, slice_size: int = SLICE) -> Any:
    """A LogitsProcessor equal to Temperature then TopP warping (HF semantics, min 1 token kept)."""
    import torch
    from transformers import LogitsProcessor

    class Nucleus(LogitsProcessor):  # type: ignore[misc]
        def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
            scores = scores / temperature
            if top_p >= 1.0:
                return scores
            k = min(slice_size, scores.shape[-1])
            probs = scores.float().softmax(dim=-1)
            top_probs, top_idx = probs.topk(k, dim=-1)
            before = top_probs.cumsum(dim=-1) - top_probs  # mass of the more likely tokens
            keep = before < top_p  # HF removes a token when the mass above it reaches top_p
            keep[:, 0] = True
            covered = top_probs.sum(dim=-1) >= top_p
            out = torch.full_like(scores, float("-inf"))
            kept_scores = torch.where(
                keep,
                scores.gather(-1, top_idx),
                torch.full_like(top_probs, float("-inf")).to(scores.dtype),
            )
            out.scatter_(-1, top_idx, kept_scores)
            if not bool(covered.all()):
                rows = (~covered).nonzero(as_tuple=True)[0]
                out[rows] = _full_sort(scores[rows], top_p)
            return out

    return Nucleus()


def _full_sort(scores: Any, top_p: float) -> Any:
    sorted_logits, sorted_idx = scores.sort(descending=False, dim=-1)
    cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    remove = cumulative <= (1 - top_p)
    remove[..., -1:] = False
    return scores.masked_fill(remove.scatter(-1, sorted_idx, remove), float("-inf"))

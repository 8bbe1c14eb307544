"""The transformers solver: batched sampling (k sequences per prompt in one generate call), left padding, optional LoRA."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Unpack

from engine.backends.base import Decoding, DecodingArgs, cancel_requested, raise_if_cancelled
from engine.errors import BackendError, ModelError
from engine.models import ModelRef, clear_quantized_flags, hf_folder

# OpenMP threads that spin while waiting slow torch 4x on a busy CPU; must be set before torch loads
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def cut_at_stop(text: str, stop: Sequence[str], prompt: str = "") -> str:
    """The completion up to the first stop string (dropped); a stop may begin in the prompt's trailing newline."""
    lead = "\n" if prompt.endswith("\n") else ""
    full = lead + text
    cut = len(full)
    for s in stop:
        at = full.find(s)
        if at >= 0:
            cut = min(cut, at)
    return full[len(lead) : max(cut, len(lead))]


class HFSolver:
    """Solver on transformers. `max_batch` bounds the sequences (prompts x n) per generate call."""

    def __init__(
        self,
        ref: ModelRef,
        *,
        adapter: Path | None = None,
        stop: Sequence[str] = (),
        max_batch: int | None = None,
        threads: int | None = None,
        device: str | None = None,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM

        from engine.backends.gguf_tokenizer import load_tokenizer

        if threads:
            torch.set_num_threads(threads)
        self.name = f"transformers:{ref.key}" + (f"+{adapter}" if adapter else "")
        self.stop = tuple(stop)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.max_batch = max(1, max_batch or (256 if self.device == "cuda" else 64))
        """Sequences (prompts x n) per generate call; the stages choose how many prompts they pass."""
        folder = hf_folder(ref)
        self.tokenizer = load_tokenizer(ref)
        dtype = torch.bfloat16 if self.device == "cuda" else torch.float32
        try:
            model: Any = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype)
        except (OSError, ValueError) as exc:
            raise ModelError(
                f"transformers cannot load {folder}: {exc}",
                "point models.base to a valid HF folder or GGUF",
            ) from exc
        clear_quantized_flags(model)
        if adapter is not None:
            model = _with_adapter(model, Path(adapter))
        self.model: Any = model.to(self.device).eval()
        eos = {self.tokenizer.eos_token_id}
        end_of_turn = self.tokenizer.convert_tokens_to_ids("<end_of_turn>")
        if isinstance(end_of_turn, int) and end_of_turn != self.tokenizer.unk_token_id:
            eos.add(end_of_turn)
        self.eos_ids = sorted(i for i in eos if i is not None)

    def chat_prompt(self, messages: list[dict[str, str]]) -> str:
        if not getattr(self.tokenizer, "chat_template", None):
            raise BackendError(
                f"{self.name} has no chat template",
                'set models.prompt_format = "plain" (base models are prompted by plain completion)',
            )
        return str(
            self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        )

    def generate(self, prompts: Sequence[str], **decoding: Unpack[DecodingArgs]) -> list[list[str]]:
        d = Decoding(**decoding)
        per_call = max(1, self.max_batch // d.n)
        out: list[list[str]] = []
        for start in range(0, len(prompts), per_call):
            chunk = list(prompts[start : start + per_call])
            seed = d.seed if d.seed is None else d.seed + start
            out.extend(self._generate(chunk, d.n, d.temperature, d.top_p, d.max_tokens, seed))
        return out

    def _generate(
        self,
        prompts: list[str],
        n: int,
        temperature: float,
        top_p: float,
        max_tokens: int,
        seed: int | None,
    ) -> list[list[str]]:
        import torch
        from transformers import LogitsProcessorList, StoppingCriteriaList

        from engine.backends.hf_sampling import nucleus_processor

        if seed is not None:
            torch.manual_seed(seed)
        enc = self.tokenizer(prompts, return_tensors="pt", padding=True).to(self.device)
        sample = temperature > 0
        options: dict[str, Any] = {
            "do_sample": sample,
            "num_return_sequences": n if sample else 1,
            "max_new_tokens": max_tokens,
            "eos_token_id": self.eos_ids,
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if sample:  # temperature and top-p in one processor that never sorts the whole vocabulary
            options.update(
                temperature=1.0,
                top_p=1.0,
                top_k=0,
                logits_processor=LogitsProcessorList([nucleus_processor(temperature, top_p)]),
            )
        else:
            options.update(temperature=None, top_p=None, top_k=None)
        if self.stop:
            options.update(stop_strings=list(self.stop), tokenizer=self.tokenizer)
        options["stopping_criteria"] = StoppingCriteriaList([_CancelCriteria()])
        with torch.inference_mode():
            output = self.model.generate(**enc, **options)
        raise_if_cancelled("the stage")
        new = output[:, enc["input_ids"].shape[1] :]
        texts = self.tokenizer.batch_decode(new, skip_special_tokens=True)
        per = n if sample else 1
        texts = [cut_at_stop(t, self.stop, prompts[i // per]) for i, t in enumerate(texts)]
        if not sample:  # greedy: n identical answers
            return [[t] * n for t in texts]
        return [texts[i * n : (i + 1) * n] for i in range(len(prompts))]

    def close(self) -> None:
        self.model = None


class _CancelCriteria:
    """A stopping criterion (transformers calls any callable in the list): every sequence ends at the
    next token once a stop is requested (see cancel_solvers_when)."""

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        return torch.full(
            (input_ids.shape[0],), cancel_requested(), dtype=torch.bool, device=input_ids.device
        )


def _with_adapter(model: Any, adapter: Path) -> Any:
    if not (adapter / "adapter_config.json").is_file():
        raise ModelError(
            f"{adapter} is not a PEFT LoRA adapter (no adapter_config.json)",
            "pass the folder a training run saved",
        )
    from peft import PeftModel

    try:
        return PeftModel.from_pretrained(model, str(adapter))
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise ModelError(
            f"Cannot load the adapter {adapter}: {exc}",
            "check that it was trained on this base model",
        ) from exc

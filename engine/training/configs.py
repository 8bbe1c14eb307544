"""The one place where TRL's GRPOConfig and PEFT's LoraConfig are built from our TrainingSettings."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from engine.config import TrainingSettings
from engine.training.run_folder import TENSORBOARD_FOLDER, WANDB_FOLDER


def is_main_process() -> bool:
    """Rank 0 of a multi-process launch (accelerate/torchrun), or a plain single process."""
    return int(os.environ.get("RANK", "0")) == 0


def has_gpu() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def default_accelerate_config(gpu: bool | None = None) -> Path:
    """The launch config for `--num-processes N` without `--accelerate-config`: DDP over the GPUs, or over
    CPU processes with the gloo backend where there is no GPU."""
    from engine.workspace import assets_dir

    gpu = has_gpu() if gpu is None else gpu
    return assets_dir() / "accelerate" / ("ddp.yaml" if gpu else "cpu-ddp.yaml")


def adapter_digest(model: Any) -> float:
    """The sum of |w| over the LoRA weights: equal on every rank when DDP kept them in step."""
    return float(
        sum(
            p.detach().double().abs().sum().item()
            for name, p in model.named_parameters()
            if "lora_" in name
        )
    )


def planned_steps(settings: TrainingSettings, n_rows: int) -> int:
    """Optimizer steps the run will take: max_steps, or epochs x ceil(rows / prompts per step)."""
    if settings.max_steps:
        return settings.max_steps
    return settings.epochs * max(1, math.ceil(n_rows / settings.prompts_per_step))


def tracker_environment(settings: TrainingSettings, run_dir: Path, run_id: str) -> dict[str, str]:
    """Environment variables that put the trackers' files in the run folder (TRL's callbacks read them at start).

    W&B runs offline unless the user's WANDB_MODE says otherwise: no network unless asked for.
    """
    env: dict[str, str] = {}
    if "tensorboard" in settings.report_to:
        env["TENSORBOARD_LOGGING_DIR"] = str(run_dir / TENSORBOARD_FOLDER)
    if "wandb" in settings.report_to:
        (run_dir / WANDB_FOLDER).mkdir(parents=True, exist_ok=True)
        env.update(
            WANDB_MODE=os.environ.get("WANDB_MODE", "offline"),
            WANDB_DIR=str(run_dir / WANDB_FOLDER),
            WANDB_PROJECT=os.environ.get("WANDB_PROJECT", "sdrl"),
            WANDB_NAME=run_id,
            WANDB_RUN_ID=run_id,
            WANDB_RESUME="allow",
        )
    return env


def lora_options(settings: TrainingSettings) -> dict[str, Any]:
    """Keyword arguments of PEFT's LoraConfig (checked against PEFT by engine/signature_check.py)."""
    return {
        "r": settings.lora_rank,
        "lora_alpha": settings.lora_alpha,
        "lora_dropout": settings.lora_dropout,
        "target_modules": list(settings.target_modules),
        "task_type": "CAUSAL_LM",
        "bias": "none",
    }


def grpo_options(settings: TrainingSettings, output_dir: Path, *, gpu: bool) -> dict[str, Any]:
    """Keyword arguments of TRL's GRPOConfig (checked against TRL by engine/signature_check.py).

    One optimizer step = `prompts_per_step` prompts x `group_size` completions, taken as `prompts_per_step`
    micro-batches of one group each (gradient accumulation), so memory grows with the group, not the step.
    """
    group = settings.group_size
    device: dict[str, Any] = {"use_cpu": True, "bf16": False}
    if gpu:
        device = {"use_cpu": False, "bf16": True}
        if settings.use_vllm:
            device.update(use_vllm=True, vllm_mode=settings.vllm_mode)
            if settings.vllm_mode == "colocate":
                device.update(vllm_gpu_memory_utilization=settings.vllm_gpu_memory_utilization)
            else:
                device.update(
                    vllm_server_host=settings.vllm_server_host,
                    vllm_server_port=settings.vllm_server_port,
                )
    return {
        "output_dir": str(output_dir),
        "per_device_train_batch_size": group,
        "gradient_accumulation_steps": settings.prompts_per_step,
        "num_generations": group,
        "max_completion_length": settings.max_completion_tokens,
        "temperature": settings.temperature,
        # TRL adds beta * KL to the loss (the paper's sign, not the authors' code's)
        "beta": settings.kl_coef,
        "epsilon": settings.clip_eps,
        "loss_type": "grpo",
        # advantage (r - group mean) / (group std + eps), as in the paper
        "scale_rewards": "group",
        "learning_rate": settings.learning_rate,
        "lr_scheduler_type": "constant",
        "num_train_epochs": settings.epochs,
        "max_steps": settings.max_steps or -1,
        "seed": settings.seed,
        "data_seed": settings.seed,
        "save_strategy": "steps",
        "save_steps": settings.checkpoint_every,
        "logging_steps": 1,
        "report_to": list(settings.report_to) or "none",
        "disable_tqdm": True,
        "gradient_checkpointing": False,
        "remove_unused_columns": False,
        "dataloader_num_workers": 0,
        **device,
    }


def trainer_options(
    model: Any,
    reward_funcs: Any,
    args: Any,
    train_dataset: Any,
    processing_class: Any,
    peft_config: Any,
    callbacks: Any,
) -> dict[str, Any]:
    """Keyword arguments of TRL's GRPOTrainer (checked against TRL by engine/signature_check.py)."""
    return {
        "model": model,
        "reward_funcs": reward_funcs,
        "args": args,
        "train_dataset": train_dataset,
        "processing_class": processing_class,
        "peft_config": peft_config,
        "callbacks": callbacks,
    }


def build_configs(
    settings: TrainingSettings, output_dir: Path, *, gpu: bool | None = None
) -> tuple[Any, Any]:
    """(GRPOConfig, LoraConfig) for a run writing checkpoints to `output_dir`."""
    from peft import LoraConfig
    from trl import GRPOConfig

    gpu = has_gpu() if gpu is None else gpu
    return GRPOConfig(**grpo_options(settings, output_dir, gpu=gpu)), LoraConfig(
        **lora_options(settings)
    )

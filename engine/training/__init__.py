"""GRPO training with a LoRA adapter on the selected samples (METHOD.md stage 10): data, rewards, configs, callbacks, preflight, worker."""

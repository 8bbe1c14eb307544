"""The task definition (task.toml): typed settings with the METHOD.md defaults, validated with messages that name file, field and fix."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.errors import ConfigError
from engine.selection import SelectionRule

ANSWER_TYPES = ("numeric", "math", "multiple_choice", "exact", "custom")
AnswerType = Literal["numeric", "math", "multiple_choice", "exact", "custom"]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveInt = Annotated[int, Field(ge=1)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Demo(_Section):
    """A human example: an input and its full output (with the final answer in the output format)."""

    input: str = Field(min_length=1)
    output: str = Field(min_length=1)


class ModelSettings(_Section):
    instructor: str = "smollm2-135m-instruct"
    """Bundled name, GGUF file or HF folder of the model that writes and labels questions."""
    instructor_backend: Literal["llamacpp", "openai", "vllm"] = "llamacpp"
    openai_base_url: str = "http://127.0.0.1:8080/v1"
    openai_model: str = "default"
    openai_api_key_env: str = "OPENAI_API_KEY"
    openai_response_format: Literal["json_schema", "json_object"] = "json_schema"
    """How JSON-schema constrained replies are asked for: `json_schema` is OpenAI's format (vLLM serve, hosted
    APIs); `json_object` sends `{"type": "json_object", "schema": ...}`, the only form llama-cpp-python's server takes."""
    base: str = "gemma3-270m"
    """Bundled name, GGUF file or HF folder of the model that is probed, scored and trained."""
    solver_backend: Literal["transformers", "vllm", "llamacpp"] = "transformers"
    prompt_format: Literal["plain", "chat"] = "plain"
    n_ctx: PositiveInt = 4096
    threads: int | None = None


class GenerationSettings(_Section):
    n_samples: PositiveInt = 500
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 0.7
    max_tokens: PositiveInt = 512
    votes: Annotated[int, Field(ge=0)] = 16
    vote_temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 0.7
    vote_max_tokens: PositiveInt = 512
    keyword_count: PositiveInt = 5
    retrieval_passages: PositiveInt = 10000
    passage_chars: PositiveInt = 2048
    preview_passage_chars: PositiveInt = 800
    """Previews ground each question in the first this-many characters of its passage: reading the
    passage dominates the time to the first streamed token (about 300 tokens/s on 2 CPU cores)."""
    chunk_chars: PositiveInt = 1200
    chunk_overlap: Annotated[int, Field(ge=0)] = 200
    jsonl_text_field: str = "text"
    max_demos_in_prompt: Annotated[int, Field(ge=0)] = 3
    near_duplicate_threshold: Probability = 0.9
    decontaminate: bool = True
    """Check every new sample (generated and rewritten) against the benchmarks: the built-in ones (GSM8K),
    decontaminate_file and every benchmark this workspace has been evaluated on (`sdrl eval --benchmark`)."""
    decontaminate_file: str | None = None
    decontaminate_ngram: PositiveInt = 13
    low_agreement: Probability = 0.5
    """Labels whose winning share is below this are flagged as doubtful."""
    seed: int = 0

    @model_validator(mode="after")
    def _overlap_below_chunk(self) -> GenerationSettings:
        if self.chunk_overlap >= self.chunk_chars:
            raise ValueError("chunk_overlap must be smaller than chunk_chars")
        return self


class DifficultySettings(_Section):
    rounds: Annotated[int, Field(ge=0)] = 1
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 0.7
    max_tokens: PositiveInt = 512
    probe_max_tokens: PositiveInt = 512


class ScoringSettings(_Section):
    k: PositiveInt = 64
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 0.7
    top_p: Annotated[float, Field(gt=0.0, le=1.0)] = 0.95
    max_tokens: PositiveInt = 512
    batch_size: PositiveInt = 8


class SelectionSettings(_Section):
    rule: SelectionRule = "paper"
    m: PositiveInt = 500
    band: tuple[Probability, Probability] = (0.0, 1.0)
    validation_share: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.1
    drop_low_agreement: bool = False
    """Leave out samples whose label agreement is below generation.low_agreement (doubtful labels); accepted
    and pinned samples stay. Off, as in the paper; `sdrl instructor check` suggests the threshold."""
    seed: int = 0

    @model_validator(mode="after")
    def _band_ordered(self) -> SelectionSettings:
        if self.band[0] > self.band[1]:
            raise ValueError(f"band lower bound {self.band[0]} is above upper bound {self.band[1]}")
        return self


class TrainingSettings(_Section):
    lora_rank: PositiveInt = 16
    lora_alpha: PositiveInt = 32
    lora_dropout: Probability = 0.05
    target_modules: list[str] = Field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"]
    )
    learning_rate: Annotated[float, Field(gt=0.0)] = 5e-5
    group_size: Annotated[int, Field(ge=2)] = 16
    prompts_per_step: PositiveInt = 4
    max_completion_tokens: PositiveInt = 2048
    max_prompt_tokens: PositiveInt = 1024
    kl_coef: Annotated[float, Field(ge=0.0)] = 0.01
    clip_eps: Annotated[float, Field(gt=0.0)] = 0.2
    temperature: Annotated[float, Field(gt=0.0, le=2.0)] = 0.7
    epochs: PositiveInt = 5
    max_steps: int | None = None
    seed: int = 0
    checkpoint_every: PositiveInt = 50
    sample_every: PositiveInt = 10
    format_reward: Annotated[float, Field(ge=0.0)] = 0.0
    wrong_parseable_reward: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    use_vllm: bool = False
    vllm_mode: Literal["colocate", "server"] = "colocate"
    """colocate: vLLM shares the training GPU(s); server: generation runs in `trl vllm-serve` (docs/scale-out.md)."""
    vllm_server_host: str = "127.0.0.1"
    vllm_server_port: Annotated[int, Field(ge=1, le=65535)] = 8000
    vllm_gpu_memory_utilization: Annotated[float, Field(gt=0.0, le=1.0)] = 0.3
    """Share of GPU memory vLLM may take in colocate mode (the rest is for training)."""
    report_to: list[Literal["tensorboard", "wandb"]] = Field(default_factory=list)
    """Experiment trackers TRL also logs to: `tensorboard` (event files in the run's `tensorboard/` folder) and
    `wandb` (offline, in the run's `wandb/` folder, unless WANDB_MODE says otherwise; needs `pip install wandb`)."""


class TaskDefinition(_Section):
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    input_format: str = ""
    output_format: str = Field(min_length=1)
    answer_type: AnswerType
    checker: str | None = None
    """Dotted path `package.module:function` for answer_type = "custom"."""
    choices: list[str] = Field(default_factory=lambda: ["A", "B", "C", "D"])
    demos: list[Demo] = Field(default_factory=list)
    models: ModelSettings = Field(default_factory=ModelSettings)
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    difficulty: DifficultySettings = Field(default_factory=DifficultySettings)
    scoring: ScoringSettings = Field(default_factory=ScoringSettings)
    selection: SelectionSettings = Field(default_factory=SelectionSettings)
    training: TrainingSettings = Field(default_factory=TrainingSettings)

    @model_validator(mode="after")
    def _custom_needs_checker(self) -> TaskDefinition:
        if self.answer_type == "custom" and not self.checker:
            raise ValueError('answer_type "custom" needs checker = "package.module:function"')
        return self


def parse_task(text: str, source: str = "task.toml") -> TaskDefinition:
    """Parse and validate task TOML text; every problem becomes one ConfigError naming file, field and fix."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{source} is not valid TOML: {exc}",
            "fix the syntax at the position given (strings need quotes, tables [like.this]); "
            "see `sdrl init --template blank` for a valid example",
        ) from exc
    return validate_task(data, source)


def validate_task(data: dict[str, Any], source: str = "task.toml") -> TaskDefinition:
    try:
        return TaskDefinition.model_validate(data)
    except ValidationError as exc:
        raise invalid(exc, source) from exc


def load_task(path: Path) -> TaskDefinition:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path} does not exist", "run `sdrl init DIR` to create a workspace with a task.toml"
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text", "save the file as UTF-8") from exc
    return parse_task(text, str(path))


SettingsT = TypeVar("SettingsT", bound=BaseModel)


def validate_settings(cls: type[SettingsT], data: dict[str, Any], source: str) -> SettingsT:
    """`cls` validated from `data`; a ConfigError naming every field in error (the one place pydantic
    errors become messages: task files, CLI overrides and studio forms all come through here)."""
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise invalid(exc, source) from exc


def invalid(exc: ValidationError, source: str) -> ConfigError:
    """A ConfigError that lists every problem in `exc` with its fix, and the fields in error."""
    problems = []
    fixes = []
    fields = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(top level)"
        fields.append(field)
        kind = err["type"]
        if kind == "missing":
            problems.append(f"field `{field}` is missing")
            fixes.append(f"add `{field} = ...`")
        elif kind == "extra_forbidden":
            problems.append(f"field `{field}` is not a known setting")
            fixes.append(
                f"remove or rename `{field}` (check its spelling against `sdrl init --template blank`)"
            )
        elif kind == "literal_error":
            allowed = err.get("ctx", {}).get("expected", "")
            problems.append(f"field `{field}` is {err.get('input')!r}, not one of {allowed}")
            fixes.append(f"set `{field}` to one of {allowed}")
        else:
            problems.append(f"field `{field}`: {err['msg']}")
            fixes.append(f"correct `{field}`")
    title = f"{source} is invalid: " + "; ".join(problems)
    return ConfigError(title, "; ".join(dict.fromkeys(fixes)), tuple(fields))

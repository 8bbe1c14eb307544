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
    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, use_attribute_docstrings=True
    )


class Demo(_Section):
    """A human example: an input and its full output (with the final answer in the output format)."""

    input: str = Field(min_length=1)
    """The example's input."""
    output: str = Field(min_length=1)
    """The example's full output, ending with the final answer in the output format."""


class ModelSettings(_Section):
    instructor: str = "smollm2-135m-instruct"
    """Bundled name, GGUF file or HF folder of the model that writes and labels questions."""
    instructor_backend: Literal["llamacpp", "openai", "vllm"] = "llamacpp"
    """Where the instructor runs: `llamacpp` (in process, GGUF), `openai` (any OpenAI-compatible
    server) or `vllm` (in process, GPU)."""
    openai_base_url: str = "http://127.0.0.1:8080/v1"
    """Base URL of the OpenAI-compatible server when instructor_backend = "openai"."""
    openai_model: str = "default"
    """Model name sent to the OpenAI-compatible server."""
    openai_api_key_env: str = "OPENAI_API_KEY"
    """Environment variable that holds the server's API key (unset: no key is sent)."""
    openai_response_format: Literal["json_schema", "json_object"] = "json_schema"
    """How JSON-schema constrained replies are asked for: `json_schema` is OpenAI's format (vLLM serve, hosted
    APIs); `json_object` sends `{"type": "json_object", "schema": ...}`, the only form llama-cpp-python's server takes."""
    base: str = "gemma3-270m"
    """Bundled name, GGUF file or HF folder of the model that is probed, scored and trained."""
    solver_backend: Literal["transformers", "vllm", "llamacpp"] = "transformers"
    """What runs the base model for probing, scoring and eval: `transformers`, `vllm` (GPU) or
    `llamacpp` (GGUF)."""
    prompt_format: Literal["plain", "chat"] = "plain"
    """How the base model is asked: `plain` completion (the paper's form for base models) or `chat`
    through its chat template."""
    n_ctx: PositiveInt = 4096
    """Context window in tokens for llama.cpp and vLLM models."""
    threads: int | None = None
    """CPU threads for llama.cpp; unset: half the logical CPUs, at most 8."""
    vllm_gpu_memory_utilization: Annotated[float, Field(gt=0.0, le=1.0)] = 0.4
    """Share of GPU memory each vLLM engine (instructor, solver) takes. vLLM's own default, 0.9, leaves no room
    for a second engine in the same process; two engines need shares that sum below about 0.9."""


class GenerationSettings(_Section):
    n_samples: PositiveInt = 500
    """How many samples the generate stage writes (one per slot)."""
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 0.7
    """Sampling temperature of the instructor when it writes questions."""
    max_tokens: PositiveInt = 512
    """Token limit of each question the instructor writes."""
    votes: PositiveInt = 16
    """Instructor answers per question in the label stage; the majority answer becomes the label. At
    least one: with none the generator's own answer would be the label, with agreement 1.0."""
    vote_temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 0.7
    """Sampling temperature of the label stage's votes."""
    vote_max_tokens: PositiveInt = 512
    """Token limit of each vote."""
    keyword_count: PositiveInt = 5
    """Keywords the instructor extracts from the task to query the corpus."""
    retrieval_passages: PositiveInt = 10000
    """Passages retrieved from the corpus index to ground the questions in."""
    passage_chars: PositiveInt = 2048
    """Characters of a passage shown to the instructor with each question request."""
    preview_passage_chars: PositiveInt = 800
    """Previews ground each question in the first this-many characters of its passage: reading the
    passage dominates the time to the first streamed token (about 300 tokens/s on 2 CPU cores)."""
    chunk_chars: PositiveInt = 1200
    """Characters per passage when corpus documents are split into passages."""
    chunk_overlap: Annotated[int, Field(ge=0)] = 200
    """Characters shared by consecutive passages of a document (below chunk_chars)."""
    jsonl_text_field: str = "text"
    """Field of .jsonl corpus records that holds the text."""
    max_demos_in_prompt: Annotated[int, Field(ge=0)] = 3
    """Most human demos put in an instructor prompt."""
    near_duplicate_threshold: Probability = 0.9
    """Word-shingle Jaccard similarity at or above which a question counts as a near duplicate and is
    dropped."""
    decontaminate: bool = True
    """Check every new sample (generated and rewritten) against the benchmarks: the built-in ones (GSM8K),
    decontaminate_file and every benchmark this workspace has been evaluated on (`sdrl eval run --benchmark`)."""
    decontaminate_file: str | None = None
    """A benchmark file (.jsonl/.json/.parquet); questions sharing a decontaminate_ngram-word sequence
    with it are dropped."""
    decontaminate_ngram: PositiveInt = 13
    """Length in words of the sequences compared against the benchmark."""
    low_agreement: Probability = 0.5
    """Labels whose winning share is below this are flagged as doubtful."""
    seed: int = 0
    """Seed from which every synthesis and scoring seed is derived (engine/seeds.py)."""
    prompting: Literal["chat", "fewshot"] = "chat"
    """How the instructor is asked to write and answer questions. "chat": a chat request for JSON,
    grounded in one passage (the paper's way). "fewshot": it continues a plain-text list of the demos
    (Question: ... / Answer: ...) below facts from the passage, and votes by answering in the base
    model's prompt form after the demos; for small instructors (under about 1B parameters) that cannot
    follow a request for JSON. Needs at least one demo."""

    @model_validator(mode="after")
    def _overlap_below_chunk(self) -> GenerationSettings:
        if self.chunk_overlap >= self.chunk_chars:
            raise ValueError("chunk_overlap must be smaller than chunk_chars")
        return self


class DifficultySettings(_Section):
    rounds: Annotated[int, Field(ge=0)] = 1
    """Rounds of difficulty adaptation: each rewrites solved samples harder and unsolved ones easier
    (0: none)."""
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 0.7
    """Sampling temperature of the instructor when it rewrites a sample."""
    max_tokens: PositiveInt = 512
    """Token limit of each rewrite."""
    probe_max_tokens: PositiveInt = 512
    """Token limit of the base model's one greedy answer per sample in the probe stage (also eval's
    default)."""


class ScoringSettings(_Section):
    k: PositiveInt = 64
    """Answers the base model samples per question; its pass rate is the share that is correct."""
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 0.7
    """Sampling temperature of the base model's k answers."""
    top_p: Annotated[float, Field(gt=0.0, le=1.0)] = 0.95
    """Nucleus sampling share for the k answers."""
    max_tokens: PositiveInt = 512
    """Token limit of each scored answer."""
    batch_size: PositiveInt = 8
    """Questions the solver answers at once in probe and score."""


class SelectionSettings(_Section):
    rule: SelectionRule = "paper"
    """How samples are ranked: `paper` (0 < pass rate < 1, hardest first), `band` (inside `band`,
    hardest first), `easy`, `hard` or `all`."""
    m: PositiveInt = 500
    """How many samples are kept for training (accepted and pinned ones always count; `all` is not
    cut)."""
    band: tuple[Probability, Probability] = (0.0, 1.0)
    """Pass-rate bounds [lo, hi] for rule = "band"."""
    validation_share: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.1
    """Share of the eligible samples held out (seeded) as the validation split, before the top M are
    taken."""
    drop_low_agreement: bool = False
    """Leave out samples whose label agreement is below generation.low_agreement (doubtful labels); accepted
    and pinned samples stay. Off, as in the paper; `sdrl instructor check` suggests the threshold."""
    seed: int = 0
    """Seed of the validation split draw."""

    @model_validator(mode="after")
    def _band_ordered(self) -> SelectionSettings:
        if self.band[0] > self.band[1]:
            raise ValueError(f"band lower bound {self.band[0]} is above upper bound {self.band[1]}")
        return self


class TrainingSettings(_Section):
    lora_rank: PositiveInt = 16
    """Rank of the LoRA adapter."""
    lora_alpha: PositiveInt = 32
    """LoRA scaling alpha (the update is scaled by alpha / rank)."""
    lora_dropout: Probability = 0.05
    """Dropout on the LoRA layers."""
    target_modules: list[str] = Field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"]
    )
    """Module names of the base model that get LoRA adapters."""
    learning_rate: Annotated[float, Field(gt=0.0)] = 5e-5
    """Optimizer learning rate."""
    group_size: Annotated[int, Field(ge=2)] = 16
    """Completions sampled per prompt; GRPO's advantage compares each with its group."""
    prompts_per_step: PositiveInt = 4
    """Prompts per optimizer step (each with group_size completions)."""
    max_completion_tokens: PositiveInt = 2048
    """Token limit of each sampled completion."""
    max_prompt_tokens: PositiveInt = 1024
    """Longest prompt the preflight accepts, in tokens."""
    kl_coef: Annotated[float, Field(ge=0.0)] = 0.01
    """Weight of the KL penalty towards the base model (TRL's beta)."""
    clip_eps: Annotated[float, Field(gt=0.0)] = 0.2
    """PPO-style clipping range of the policy ratio (TRL's epsilon)."""
    temperature: Annotated[float, Field(gt=0.0, le=2.0)] = 0.7
    """Sampling temperature of the completions during training."""
    epochs: PositiveInt = 5
    """Passes over the selected samples (unless max_steps is set)."""
    max_steps: PositiveInt | None = None
    """Stop after this many optimizer steps; unset: epochs decide."""
    seed: int = 0
    """Seed of training (torch, data order)."""
    checkpoint_every: PositiveInt = 50
    """Save a checkpoint every this many steps (a killed run resumes from the last one)."""
    sample_every: PositiveInt = 10
    """Log sampled completions every this many steps (and at step 1)."""
    format_reward: Annotated[float, Field(ge=0.0)] = 0.0
    """Reward added for an answer in the output format, right or wrong (0: correctness only)."""
    wrong_parseable_reward: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    """Reward for a wrong answer that could be parsed (0: only correct answers are rewarded)."""
    use_vllm: bool = False
    """Generate the completions with vLLM (GPU) instead of transformers."""
    vllm_mode: Literal["colocate", "server"] = "colocate"
    """colocate: vLLM shares the training GPU(s); server: generation runs in `trl vllm-serve`
    (docs/scale-out.md)."""
    vllm_server_host: str = "127.0.0.1"
    """Host of `trl vllm-serve` when vllm_mode = "server"."""
    vllm_server_port: Annotated[int, Field(ge=1, le=65535)] = 8000
    """Port of `trl vllm-serve` when vllm_mode = "server"."""
    vllm_gpu_memory_utilization: Annotated[float, Field(gt=0.0, le=1.0)] = 0.3
    """Share of GPU memory vLLM may take in colocate mode (the rest is for training)."""
    report_to: list[Literal["tensorboard", "wandb"]] = Field(default_factory=list)
    """Experiment trackers TRL also logs to: `tensorboard` (event files in the run's `tensorboard/` folder) and
    `wandb` (offline, in the run's `wandb/` folder, unless WANDB_MODE says otherwise; needs `pip install wandb`)."""


class TaskDefinition(_Section):
    name: str = Field(min_length=1)
    """Short name of the task."""
    description: str = Field(min_length=1)
    """What the task is: its type, domain and the skill it needs; the instructor writes questions from
    it."""
    input_format: str = ""
    """What an input looks like (optional)."""
    output_format: str = Field(min_length=1)
    """What an output looks like, including where the final answer goes."""
    answer_type: AnswerType
    """How final answers are extracted and compared: `numeric` (after ####), `math` (last \\boxed{}),
    `multiple_choice` / `exact` (last <answer>...</answer>) or `custom` (checker)."""
    checker: str | None = None
    """Dotted path `package.module:function` for answer_type = "custom"."""
    choices: list[str] = Field(default_factory=lambda: ["A", "B", "C", "D"])
    """Allowed answers for answer_type = "multiple_choice"."""
    demos: list[Demo] = Field(default_factory=list)
    """Human examples ([[demos]] with input and output) shown to the instructor."""
    models: ModelSettings = Field(default_factory=ModelSettings)
    """The instructor and base models and their backends."""
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    """Question generation, labelling by vote, corpus retrieval, dedup and decontamination."""
    difficulty: DifficultySettings = Field(default_factory=DifficultySettings)
    """Difficulty adaptation (probe and rewrites)."""
    scoring: ScoringSettings = Field(default_factory=ScoringSettings)
    """Pass-rate scoring of each sample by the base model."""
    selection: SelectionSettings = Field(default_factory=SelectionSettings)
    """Which scored samples train, and the validation split."""
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    """LoRA GRPO training."""

    @model_validator(mode="after")
    def _fewshot_needs_demos(self) -> TaskDefinition:
        if self.generation.prompting == "fewshot" and not self.demos:
            raise ValueError(
                'generation.prompting = "fewshot" needs at least one [[demos]] entry (input and output) '
                'for the instructor to continue; add demos, or set prompting = "chat"'
            )
        return self

    @model_validator(mode="after")
    def _custom_needs_checker(self) -> TaskDefinition:
        if self.answer_type == "custom" and not self.checker:
            raise ValueError('answer_type "custom" needs checker = "package.module:function"')
        return self


def parse_task(text: str, source: str = "task.toml") -> TaskDefinition:
    """Parse and validate task TOML text; every problem becomes one ConfigError naming file, field and
    fix."""
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

#!/usr/bin/env bash
# The GPU check, for a machine with a CUDA GPU (about 8 minutes): install the gpu extra, check the arguments we
# pass to TRL and vLLM against the installed signatures, run every @pytest.mark.gpu test, time the scoring stage
# on vLLM against HF, and print one summary table. Exit 0 only when every step passed.
#
#   scripts/gpu-check.sh            # from the repository root or anywhere
#   PYTHON=/path/to/python scripts/gpu-check.sh
#   SKIP_INSTALL=1 scripts/gpu-check.sh   # vLLM already installed (or no network)
#
# It uses the project venv (.venv, made by `./dev setup`, which on a GPU machine installs the gpu extra too).
# A full log goes to gpu-check.log in the current directory.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
PYTHON=${PYTHON:-.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=$(command -v python3)
LOG=${LOG:-$PWD/gpu-check.log}
: >"$LOG"

names=()
results=()
seconds=()
details=()
failed=0

record() { # name result seconds detail
    names+=("$1")
    results+=("$2")
    seconds+=("$3")
    details+=("$4")
    [ "$2" = "FAIL" ] && failed=1
    printf '== %s: %s (%ss) %s\n' "$1" "$2" "$3" "$4" | tee -a "$LOG"
}

# run_step NAME LIMIT_SECONDS COMMAND... : runs it with a time limit, output to the log and kept in $STEP_OUT
run_step() {
    local name=$1 limit=$2
    shift 2
    local start rc
    start=$(date +%s)
    printf '\n== %s: %s\n' "$name" "$*" >>"$LOG"
    STEP_OUT=$(timeout --kill-after=20 "$limit" "$@" 2>&1)
    rc=$?
    printf '%s\n' "$STEP_OUT" >>"$LOG"
    STEP_SECONDS=$(($(date +%s) - start))
    [ $rc -eq 124 ] && STEP_OUT="$STEP_OUT
timed out after ${limit}s"
    return $rc
}

last_line() { printf '%s\n' "$1" | grep -E "$2" | tail -n 1; }

# 0. a GPU at all
if ! "$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>>"$LOG"; then
    echo "error: no CUDA GPU visible to torch ($PYTHON)"
    echo "  fix: run this on a CUDA machine, with a CUDA build of torch (./dev sets one up where nvidia-smi works)"
    exit 2
fi
gpu=$("$PYTHON" -c 'import torch; p = torch.cuda.get_device_properties(0); print(f"{p.name}, {p.total_memory / 2**30:.0f} GiB")')
echo "GPU: $gpu" | tee -a "$LOG"

# 1. the gpu extra (vLLM); skipped when an acceptable vLLM is already installed
vllm_ok() { "$PYTHON" -c 'import vllm' >/dev/null 2>&1; }
if [ "${SKIP_INSTALL:-0}" = "1" ] || vllm_ok; then
    record "install gpu extra" "SKIP" 0 "$(vllm_ok && "$PYTHON" -c 'import vllm; print("vllm", vllm.__version__, "present")' || echo 'SKIP_INSTALL=1')"
elif run_step "install gpu extra" 300 "$PYTHON" -m pip install --quiet -e ".[gpu]"; then
    record "install gpu extra" "ok" "$STEP_SECONDS" "$("$PYTHON" -c 'import vllm; print("vllm", vllm.__version__)' 2>&1)"
else
    record "install gpu extra" "FAIL" "$STEP_SECONDS" "$(last_line "$STEP_OUT" 'rror|timed out')"
fi
versions=$("$PYTHON" -c 'import importlib.metadata as m
print(", ".join(f"{p} {m.version(p)}" for p in ("torch", "transformers", "trl", "peft", "vllm") if __import__("importlib.util").util.find_spec(p)))' 2>&1)
echo "versions: $versions" | tee -a "$LOG"

# 2. our arguments against the installed TRL/PEFT and vLLM signatures: a renamed argument fails here, loudly
if run_step "argument check (TRL, vLLM)" 60 "$PYTHON" -m engine.signature_check all; then
    record "argument check (TRL, vLLM)" "ok" "$STEP_SECONDS" "$(printf '%s\n' "$STEP_OUT" | grep -E '^(trl|vllm):' | tr '\n' ' ')"
else
    printf '%s\n' "$STEP_OUT" | grep -E '^error:' | head -n 20
    record "argument check (TRL, vLLM)" "FAIL" "$STEP_SECONDS" "$(printf '%s\n' "$STEP_OUT" | grep -c '^error:') problem(s), listed above"
fi

# 3. every GPU test: vLLM instructor, vLLM solver, two engines in one process, TRL colocated vLLM, bf16 LoRA GRPO
if run_step "pytest -m gpu" 300 "$PYTHON" -m pytest -m gpu -q -rA -p no:cacheprovider tests; then
    record "pytest -m gpu" "ok" "$STEP_SECONDS" "$(last_line "$STEP_OUT" '(passed|failed|skipped|error)')"
else
    printf '%s\n' "$STEP_OUT" | grep -E '^(FAILED|ERROR)' | head -n 20
    record "pytest -m gpu" "FAIL" "$STEP_SECONDS" "$(last_line "$STEP_OUT" '(passed|failed|error|timed out)')"
fi
# one line per GPU test in the table
while IFS= read -r line; do
    test_result=${line%% *}
    test_name=${line#* }
    test_name=${test_name%% - *}
    case $test_result in
        PASSED) verdict=ok ;;
        SKIPPED) verdict=SKIP ;;
        *) verdict=FAIL ;;
    esac
    record "  ${test_name##*::}" "$verdict" "-" ""
done < <(printf '%s\n' "$STEP_OUT" | grep -E '^(PASSED|FAILED|ERROR|SKIPPED) tests/' | grep -vE 'SKIPPED .*needs a CUDA GPU' || true)

# 4. the scoring stage on vLLM against one-at-a-time HF generate (bench/score.py)
if run_step "bench/score.py vLLM vs HF" 120 "$PYTHON" bench/score.py --samples 8 -k 8 --max-tokens 64; then
    ratio=$(last_line "$STEP_OUT" 'ratio vLLM')
    record "bench/score.py vLLM vs HF" "$([ -n "$ratio" ] && echo ok || echo FAIL)" "$STEP_SECONDS" "${ratio:-no vLLM line in the output}"
else
    record "bench/score.py vLLM vs HF" "FAIL" "$STEP_SECONDS" "$(last_line "$STEP_OUT" 'rror|timed out')"
fi

# 5. one table
echo
echo "GPU check on $gpu"
echo "$versions"
printf '%-44s %-6s %8s  %s\n' "step" "result" "seconds" "detail"
printf '%-44s %-6s %8s  %s\n' "----" "------" "-------" "------"
for i in "${!names[@]}"; do
    printf '%-44s %-6s %8s  %s\n' "${names[$i]}" "${results[$i]}" "${seconds[$i]}" "${details[$i]}"
done
echo "full log: $LOG"
exit $failed

#!/usr/bin/env bash
# Issue 20's GPU checks as one command, for a lent device machine (docs/notes/scaling.md, "On a GPU"):
#   1. bench_pack.py on the GPU: seconds per epoch per network, share of the matmul peak and 50-epoch trainings a
#      minute for plain Keras `fit` and packs of 1, 8, 32 and 128 (targets: >= 100 classifier trainings a minute);
#   2. the paper profile, timed step by step (target: <= 5 min), then its arithmetic floor (profile_floor.py).
# What it prints comes back under $OUT: devices.txt, bench_pack.txt, paper.log, steps.json, floor.txt.
#
# The device image has JAX with its CUDA plugin but not Keras. Prepare its wheels here, once (they are ignored):
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 -d .whl keras==3.15.1 namex==0.1.0 optree==0.20.0
# then one device call: run(command="bash benchmarks/device_check.sh", carry=[".whl"], timeout_s=590).
# The steps stop at their own time limits (TIME_BENCH, TIME_PAPER seconds), so a slow one still leaves figures.
#
# QUICK=1 bash benchmarks/device_check.sh /tmp/check   runs the same plumbing on tiny settings on any machine.
set -uo pipefail
out=${1:-${OUT:-runs/device}}
mkdir -p "$out"
py=${PYTHON:-python3}
if [ -z "${PYTHON:-}" ] && [ -x .venv/bin/python ] && [ -z "${OUT:-}" ]; then py=.venv/bin/python; fi
if [ -d .whl ] && [ -n "${OUT:-}" ]; then  # on the device: Keras and its two missing needs, beside the image's JAX
    "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        || { echo "device_check: cannot install the carried wheels" >&2; exit 1; }
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD/src:$PWD/benchmarks${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
export XLA_PYTHON_CLIENT_PREALLOCATE=false  # each step's processes take the GPU memory they use, not 75% each
export KERAS_BACKEND=jax
if [ -n "${QUICK:-}" ]; then
    bench=(--kinds classifier --packs 1 2 --samples 2048 --epochs 2) profile=quick
else
    bench=(--packs 1 8 32 128) profile=paper
fi
"$py" -c "import multimnist, jax, keras; print('jax', jax.__version__, 'keras', keras.__version__, 'multimnist',
multimnist.__version__, jax.devices())" 2>&1 | tee "$out/devices.txt" || exit 1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >> "$out/devices.txt" 2>/dev/null

start=$(date +%s)
timeout "${TIME_BENCH:-150}" "$py" benchmarks/bench_pack.py "${bench[@]}" 2>&1 | grep -v -i warning | tee "$out/bench_pack.txt"
echo "bench_pack: rc ${PIPESTATUS[0]}, $(( $(date +%s) - start )) s" | tee -a "$out/bench_pack.txt"

run=/tmp/device-check-$profile
rm -rf "$run"  # timed from scratch: a run left by an earlier call would resume
start=$(date +%s)
timeout "${TIME_PAPER:-330}" "$py" -m multimnist reproduce --profile "$profile" --out "$run" --jobs 1 > "$out/paper.log" 2>&1
rc=$?
echo "reproduce --profile $profile: rc $rc, $(( $(date +%s) - start )) s" | tee -a "$out/paper.log"
tail -n 5 "$out/paper.log"
if [ -f "$run/steps.json" ]; then
    cp "$run/steps.json" "$out/steps.json"
    "$py" -c "import json, sys; s = json.load(open(sys.argv[1])); [print(f'{k:24s} {v.get(\"seconds\", 0):8.1f} s')
for k, v in s.items()]; print(f'{\"total\":24s} {sum(v.get(\"seconds\", 0) for v in s.values()):8.1f} s')" \
        "$run/steps.json" | tee -a "$out/paper.log"
    if [ "$rc" = 0 ]; then  # a stopped run's finished trainings have no step time to set against their floor
        timeout 60 "$py" benchmarks/profile_floor.py "$run" 2>&1 | grep -v -i warning | tee "$out/floor.txt"
    fi
fi

#!/usr/bin/env bash
# Run `calibrate search` on a lent machine (16 cores + one GPU) within a time budget, and leave its results
# in a folder that comes back whole: search.csv, search.json and finished.tar.gz (every finished setting's
# setting.json and each seed's fidelity.json: extract it into a search folder to resume there, or here).
#
#   docs/notes/scripts/calibration_device.sh RESULTS [GRID.yaml|builtin] [JOBS] [BUDGET_S] [TRAIN_SIZE|full] [EPOCHS] [SEEDS]
#   e.g. on the device: docs/notes/scripts/calibration_device.sh "$OUT" docs/notes/calibration/bright-round.yaml 16 520
#
# PLATFORM=cpu (default) runs JOBS single-threaded CPU workers: the study network is tiny (96k parameters),
# so a step costs ~2 ms on one core and the GPU brings little; PLATFORM=gpu shares the GPU between the JOBS
# workers (no preallocation). WORK: the search folder (default /tmp/calibration-search); RESUME: a
# finished.tar.gz from an earlier call, extracted into WORK first. Python: $PYTHON or python3; if keras is
# missing there, wheels in .whl/ (copied beside the checkout beforehand) are installed into /tmp/site first.
set -uo pipefail
results=${1:?usage: $0 RESULTS [GRID|builtin] [JOBS] [BUDGET_S] [TRAIN_SIZE|full] [EPOCHS] [SEEDS]}
grid=${2:-builtin}; jobs=${3:-16}; budget=${4:-520}; train_size=${5:-full}; epochs=${6:-50}; seeds=${7:-100,101,102}
work=${WORK:-/tmp/calibration-search}; py=${PYTHON:-python3}
mkdir -p "$results" "$work"
export KERAS_BACKEND=jax
if ! "$py" -c "import keras" 2>/dev/null && [ -d .whl ]; then
  "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
if [ "${PLATFORM:-cpu}" = cpu ]; then
  export JAX_PLATFORMS=cpu XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
  export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
else
  export XLA_PYTHON_CLIENT_PREALLOCATE=false
fi
[ -n "${RESUME:-}" ] && tar -xzf "$RESUME" -C "$work"
options=(--out "$work" --seeds "$seeds" --epochs "$epochs" --jobs "$jobs")
[ "$grid" = builtin ] || options+=(--grid "$(realpath "$grid")")
[ "$train_size" = full ] || options+=(--train-size "$train_size")
echo "search: grid $grid, $jobs jobs, budget ${budget}s, train size $train_size, $epochs epochs, seeds $seeds"
# Ctrl-C at the budget's end: the command stops its workers, and every finished run is kept for a resume.
timeout --signal=INT "$budget" "$py" -m multimnist calibrate search "${options[@]}" \
  2>&1 | grep --line-buffered -v -E '^Epoch |/step - ' | tee "$results/search.log"
echo "search ended (rc ${PIPESTATUS[0]}; 124 or 130: the budget ran out, finished runs are kept)"
"$py" - <<PY
from multimnist.experiments.calibration import write_search_table
rows = write_search_table("$work", [int(s) for s in "$seeds".split(",")])
print(f"{len(rows)} setting(s) finished on every seed; best first:")
for r in rows[:15]:
    print(f"{r['score_mean']:7.2f} +- {r['score_std'] or 0:.2f}  best val {r['best_val_accuracy_mean']:.2f}  "
          f"train {r['train_accuracy_mean']:.2f}  plateau {r['plateau_epoch_mean']:.0f}  "
          f"drop after plateau {r['val_stable_mean']:.2f}  {r['label']}")
PY
cp "$work"/search.csv "$work"/search.json "$results"/ 2>/dev/null
(cd "$work" && find settings -name setting.json -o -name fidelity.json | tar -czf "$results/finished.tar.gz" -T -)
ls -l "$results"

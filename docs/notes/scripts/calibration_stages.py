"""Calibration search in two stages on a borrowed machine: every setting on seed 100, then the best on 101-102.

Usage: python docs/notes/scripts/calibration_stages.py OUT JOBS STAGE1_SECONDS STAGE2_SECONDS \
    [TRAIN_SIZE|full EPOCHS TOP]
Each stage runs in its own process group, killed whole when its time is up; finished runs are kept.
"""
import json
import logging
import os
import signal
import subprocess
import sys
import time

from multimnist.experiments import calibration as cal

GRID = [
    {"intensity": [[0.05, 1.0], [0.3, 1.0]], "train_pool": [None, 25000, 12000, 6000, 3000],
     "offset_min": [None, 8, 5]},
    {"intensity": [[0.3, 1.0]], "blend": ["sum"], "train_pool": [12000, 6000]},
]

if __name__ == "__main__" and sys.argv[1] == "--stage":
    out, jobs, seeds, grid, train_size, epochs = json.loads(sys.argv[2])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)
    cal.run_search(out, grid, seeds, train_size=train_size, epochs=epochs, n_jobs=jobs)
    sys.exit(0)


def stage(grid, seeds, seconds):
    args = json.dumps([out, jobs, list(seeds), grid, train_size, epochs])
    proc = subprocess.Popen([sys.executable, __file__, "--stage", args], start_new_session=True)
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        logging.info("stage time is up: stopping it (finished runs are kept)")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)
    out, jobs, t1, t2 = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    train_size = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[5] != "full" else None
    epochs = int(sys.argv[6]) if len(sys.argv) > 6 else 50
    top = int(sys.argv[7]) if len(sys.argv) > 7 else 4
    t0 = time.time()
    stage(cal.expand_grid(GRID), (100,), t1)
    rows = cal.write_search_table(out, (100,))
    logging.info("stage 1: %d settings finished on seed 100 in %.0f s", len(rows), time.time() - t0)
    for r in rows[:12]:
        logging.info("  %.3f  %s", r["score_mean"], r["label"])
    best = [{k: r[k] for k in cal.KNOBS} for r in rows[:top]]
    stage(best, (100, 101, 102), t2)
    rows = cal.write_search_table(out, (100, 101, 102))
    logging.info("stage 2: %d settings finished on seeds 100-102 (%.0f s in all)", len(rows), time.time() - t0)
    for r in rows:
        logging.info("  %.3f +- %.3f  %s", r["score_mean"], r["score_std"] or 0, r["label"])

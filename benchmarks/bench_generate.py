"""Time generating the default Multi-MNIST train+test set (the target is under 5 s on 2 cores).

    .venv/bin/python benchmarks/bench_generate.py [--repeats 3] [--train-size N] [--write]

Prints the time to load the vendored MNIST, the best of `--repeats` generations of the default dataset
(83,550 train + 16,710 test images), images per second, and with --write the time to write the files.
Figures only: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from multimnist.data import load_mnist, make_dataset, preset_config, save_dataset


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-size", type=int, help="default: the study plan's 83,550")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true", help="also time writing train.npz, test.npz, meta.json")
    args = parser.parse_args()

    digits, load_s = timed(load_mnist)
    config = preset_config(train_size=args.train_size)
    times = []
    for _ in range(args.repeats):
        ds, seconds = timed(make_dataset, digits, config, seed=args.seed)
        times.append(seconds)
    n = len(ds.x_train) + len(ds.x_test)
    best = min(times)
    print(f"cpus available: {len(os.sched_getaffinity(0))}, load average {os.getloadavg()[0]:.1f}")
    print(f"load vendored MNIST:  {load_s:6.2f} s")
    print(f"generate {len(ds.x_train)} train + {len(ds.x_test)} test images: best {best:.2f} s of {args.repeats} "
          f"({', '.join(f'{t:.2f}' for t in times)}), {n / best:,.0f} images/s")
    print(f"load + generate:      {load_s + best:6.2f} s")
    if args.write:
        with tempfile.TemporaryDirectory() as tmp:
            _, write_s = timed(save_dataset, ds, tmp)
            size = sum(os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp))
        print(f"write dataset files:  {write_s:6.2f} s ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()

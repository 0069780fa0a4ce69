"""`multimnist calibrate score|search`: how closely the study network's learning curves on a dataset follow the
study's, and a resumable search over generator settings (docs/calibration.md).

The experiments import Keras and JAX, so they are imported inside each command (startup time, lean install).
"""

from __future__ import annotations

from pathlib import Path

from multimnist.cli.options import (
    add_out,
    add_run_options,
    command,
    group,
    parse_range,
    run_options,
    training_dataset,
    whole,
)

SEEDS_HELP = "calibration seeds, used for nothing else (default 100..102)"


def add_commands(subparsers) -> None:
    calibrate = group(subparsers, "calibrate", "score data against the study's learning curves, search settings",
                      dest="calibrate_command")
    score = command(calibrate, "score", "train the study network on a dataset and score its curves against the "
                                        "study's (every target, then one weighted score; lower is closer)")
    score.add_argument("--data", type=training_dataset, required=True, help="dataset folder (from `data make`) or .npz")
    add_out(score, "folder for seed-S runs and score.json")
    score.add_argument("--epochs", type=whole("--epochs", 1), default=50,
                       help="epochs per run (default 50, the study's)")
    add_run_options(score, seeds="100..102", seeds_help=SEEDS_HELP, pack=False)
    score.set_defaults(run=_score)

    search = command(calibrate, "search", "score every setting of a grid of generator settings (resumable) and "
                                          "show the best; choices use validation figures only")
    add_out(search, "search folder: settings/ID/{data,seed-S}, search.csv, search.json")
    search.add_argument("--grid", type=Path, help="YAML grid of generator knobs (default: the built-in grid)")
    search.add_argument("--train-size", type=whole("--train-size", 1),
                        help="training images per dataset (default: the study's 83,550)")
    search.add_argument("--epochs", type=whole("--epochs", 1), default=50,
                        help="epochs per run (default 50, the study's)")
    search.add_argument("--data-seed", type=whole("--data-seed"), default=1000,
                        help="seed of every setting's dataset (default 1000; the report's data uses 0)")
    search.add_argument("--pick", action="store_true",
                        help="train nothing: print the best finished setting of --out and every target")
    add_run_options(search, seeds="100..102", seeds_help=SEEDS_HELP, pack=False)
    search.set_defaults(run=_search)

    rank = command(calibrate, "rank", "score the runs kept in search tables again with today's targets (no "
                                      "training) and print the ranking against a reference setting")
    rank.add_argument("tables", type=Path, nargs="+", metavar="SEARCH.json",
                      help="search.json files that keep their runs' curves; a setting in several is taken once")
    rank.add_argument("--reference", default="study",
                      help="a preset's name or a setting id: each row's score is Welch-tested against its seeds' "
                           "(default: study)")
    rank.add_argument("--out", type=Path, help="also write the rescored search.json and search.csv here")
    rank.set_defaults(run=_rank)


def _score(args) -> int:
    from multimnist.evaluation.fidelity import describe
    from multimnist.experiments.calibration import score_dataset  # Keras/JAX: slow to import

    summary = score_dataset(args.data, args.out, seeds=parse_range(args.seeds, "--seeds", minimum=0),
                            epochs=args.epochs,
                            **run_options(args))
    print("\n".join(describe(summary)))
    print(f"wrote {args.out}/score.json")
    return 0


def _search(args) -> int:
    from multimnist.experiments.calibration import load_grid, pick, run_search  # Keras/JAX: slow to import

    if args.pick:
        _print_best(pick(args.out))
        return 0
    rows = run_search(args.out, load_grid(args.grid), seeds=parse_range(args.seeds, "--seeds", minimum=0),
                      train_size=args.train_size, epochs=args.epochs, data_seed=args.data_seed, **run_options(args))
    for rank, row in enumerate(rows[:10], 1):
        print(f"{rank}. score {row['score_mean']:.2f}  {row['label']}")
    if rows:
        print(f"best: {rows[0]['label']}")
    print(f"wrote {args.out}/search.csv and search.json ({len(rows)} settings finished on every seed)")
    return 0


def _rank(args) -> int:
    from multimnist.data.config import PRESETS
    from multimnist.evaluation.fidelity import TARGETS
    from multimnist.evaluation.noise import p_text
    from multimnist.experiments.calibration import read_tables, setting_id, versus, write_table

    rows = read_tables(args.tables)
    ref = setting_id(PRESETS[args.reference].knobs) if args.reference in PRESETS else args.reference
    tests = versus(rows, ref)
    print("| rank | setting | seeds | score (mean ± std) | "
          + " | ".join(t.name for t in TARGETS) + " | score - reference | Welch p |")
    print("|" + "---|" * (len(TARGETS) + 6))
    for i, r in enumerate(rows, 1):
        cells = [_pm(r[f"{t.name}_mean"], r[f"{t.name}_std"], 1 if t.unit == "epoch" else 2) for t in TARGETS]
        t = tests.get(r["id"])
        versus_cells = ["reference", "–"] if t is None else \
            [f"{t.diff:+.2f}", p_text(t.p)[4:] if t.p is not None else "–"]
        print(f"| {i} | {r['label']}{' (reference)' if t is None else ''} | {len(r['seeds'])} | "
              f"{_pm(r['score_mean'], r['score_std'], 2)} | " + " | ".join(cells + versus_cells) + " |")
    if args.out:
        write_table(args.out, rows)
        print(f"wrote {args.out}/search.csv and search.json ({len(rows)} settings)")
    return 0


def _pm(mean: float, std: float | None, digits: int) -> str:
    """'3.45 ± 0.25'; the mean alone without a std (one seed)."""
    return f"{mean:.{digits}f}" if std is None else f"{mean:.{digits}f} ± {std:.{digits}f}"


def _print_best(row: dict) -> None:
    """Every target of the best setting (mean +- std, share of seeds meeting it) and its knobs."""
    from multimnist.data.config import KNOBS
    from multimnist.evaluation.fidelity import TARGETS

    print(f"best setting: {row['label']} (id {row['id']}, seeds {', '.join(map(str, row['seeds']))})")
    print(f"  score {_pm(row['score_mean'], row['score_std'], 3)} (mean ± std over seeds; lower is closer)")
    for t in TARGETS:
        print(f"  {t.name:<20} {_pm(row[t.name + '_mean'], row[t.name + '_std'], 2):>14} {t.unit:<5} "
              f"{row[t.name + '_passed']:.0%} of seeds meet: {t.goal}")
    print("  knobs: " + ", ".join(f"{k}={row[k]}" for k in KNOBS))

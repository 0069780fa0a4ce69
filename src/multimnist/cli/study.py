"""`multimnist reproduce` and `multimnist report`: the whole study in one folder, and its report.

The study imports Keras and JAX, the report matplotlib: both inside the commands (startup time, lean install).
"""

from __future__ import annotations

from pathlib import Path

from multimnist.cli.options import (
    RANGE_HELP,
    add_out,
    add_run_options,
    command,
    existing_folder,
    offer,
    parse_range,
    run_options,
    training_dataset,
)
from multimnist.data.config import PRESETS
from multimnist.errors import UserError
from multimnist.layout import CONFIG, DATA_META, DATA_SPLITS, METRICS

PROFILE_NAMES = ("quick", "paper")  # experiments.study.PROFILES' names, offered by shell completion (Keras-free here)


def add_commands(subparsers) -> None:
    reproduce = command(subparsers, "reproduce", "run the whole study and write the report")
    offer(reproduce.add_argument("--profile", default="quick",
                                 help="quick: minutes, smaller data, few epochs, a smoke test; paper: the study's "
                                      "settings, 3 seeds then 5 and 10 for the configurations of the claims still "
                                      "undecided; or a YAML file of profile fields (default quick)"), PROFILE_NAMES)
    add_out(reproduce, "output folder (default runs/PROFILE: runs/quick, runs/paper, or the YAML file's name)",
            required=False)
    reproduce.set_defaults(writes=_reproduce_target)
    add_run_options(reproduce, seeds=None)
    reproduce.add_argument("--seeds", help=f"seeds for every network, a fixed design without more seeds later "
                                           f"({RANGE_HELP}; default: the profile's)")
    offer(reproduce.add_argument("--preset", metavar="NAME",
                                 help=f"run the study on this generator preset's data: {', '.join(PRESETS)} (default: "
                                      "the profile's, study)"), PRESETS)
    reproduce.add_argument("--data", type=training_dataset, metavar="DIR|FILE",
                           help="run the study on your dataset instead: a folder with train.npz and test.npz (x, y), "
                                "or one .npz with x_train, y_train, x_test, y_test; labels the class numbers 1..50 "
                                "(not with --preset)")
    reproduce.set_defaults(run=_reproduce)

    report = command(subparsers, "report", "write report.html and report.md for a reproduce folder, or with --across "
                                          "a table of every claim's verdict in each of several (needs the [report] "
                                          "extra)")
    report.add_argument("run_dir", type=existing_folder, nargs="?", help="the folder `reproduce --out` wrote")
    report.add_argument("--across", type=existing_folder, nargs="+", metavar="RUN",
                        help="finished reproduce folders, one per regime (a preset's data, or yours): write the claims "
                             "by regime to --out (across.html, across.md, across.json, effects.png)")
    report.add_argument("--out", type=Path, help="with --across: the folder to write to")
    report.set_defaults(run=_report, writes=_report_target, extra="report")


def _reproduce(args) -> int:
    from multimnist.executor import session
    from multimnist.report.pipeline import reproduce  # Keras/JAX: slow to import

    seeds = parse_range(args.seeds, "--seeds", minimum=0) if args.seeds is not None else None
    options = run_options(args)
    with session(options.get("executor")):  # with Ray: one instance for every step
        reproduce(args.out, profile=args.profile, seeds=seeds, preset=args.preset, data=args.data, **options)
    return 0


def _reproduce_target(args) -> Path:
    """The folder `reproduce` writes to (and locks): --out, or runs/PROFILE, so that the quick profile's smoke test
    and the paper profile's run do not share a folder (each would redo the other's steps)."""
    if args.out is None:
        args.out = Path("runs") / Path(args.profile).stem
    return args.out


def _report_target(args) -> Path:
    """The folder `report` writes to (and locks): RUN_DIR, or --out with --across."""
    if args.across:
        if args.run_dir is not None:
            raise UserError(f"report {args.run_dir} --across ...: give every folder after --across (report --across "
                            "RUN_A RUN_B ... --out DIR), or one folder without --across (report RUN)")
        if args.out is None:
            raise UserError("report --across needs --out DIR, the folder to write across.html, across.md, across.json "
                            "and effects.png to (e.g. report --across RUN_A RUN_B --out matrix/)")
        for run in args.across:  # before the report's imports, as for one folder
            _require_a_study(run)
        return args.out
    if args.run_dir is None:
        raise UserError("report needs the folder `multimnist reproduce --out` wrote, or --across RUN_A RUN_B ... "
                        "--out DIR")
    if args.out is not None:
        raise UserError("report RUN writes into RUN: --out goes with --across")
    return args.run_dir


def _report(args) -> int:
    if args.across:
        from multimnist.report.across import write_across  # matplotlib: slow to import

        path = write_across(args.across, args.out)
        print(f"wrote {path}, {path.with_suffix('.md')}, {path.parent / 'across.json'}")
        return 0
    _require_a_study(args.run_dir)  # before the report's imports: a wrong folder is named even without [report]
    from multimnist.report.study import write_report  # matplotlib: slow to import

    path = write_report(args.run_dir)
    print(f"wrote {path}, {path.with_suffix('.md')} and {path.parent / 'results.json'}")
    return 0


def _require_a_study(run_dir: Path) -> None:
    """Refuse a folder `multimnist reproduce` did not write (its first file is profile.json): an empty folder, a
    dataset or a single training run would get a report of nothing, written into it."""
    if (run_dir / "profile.json").is_file():
        return
    dataset = any((run_dir / name).exists() for name in (DATA_META, *DATA_SPLITS.values()))
    what = (f"a dataset ({DATA_META}, {DATA_SPLITS['train']})" if dataset
            else "a training run" if (run_dir / METRICS).exists() or (run_dir / CONFIG).exists()
            else "no file of a study" if any(run_dir.iterdir()) else "nothing")
    raise UserError(f"{run_dir} holds {what}, not a study: give `multimnist report` the folder that "
                    "`multimnist reproduce --out` wrote (it starts with profile.json)")

"""`multimnist compare`: a table of classifier runs (mean ± std over seeds, the study beside)."""

from __future__ import annotations

from pathlib import Path

from multimnist.cli.options import add_out, command


def add_commands(subparsers) -> None:
    compare = command(subparsers, "compare", "table of classifier runs: mean ± std over seeds, study beside")
    compare.add_argument("runs", nargs="+", type=Path, help="run folders, or folders holding them")
    add_out(compare, "folder for compare.csv and compare.md")
    compare.add_argument("--pairs", nargs=2, type=Path, metavar=("BEFORE", "AFTER"),
                         help="also tabulate how BEFORE's top confused pairs changed in AFTER (pair_change.*)")
    compare.set_defaults(run=_compare)


def _compare(args) -> int:
    from multimnist.experiments.compare import compare_runs, confused_pair_change  # matplotlib: slow to import

    rows = compare_runs(args.runs, args.out)
    print((args.out / "compare.md").read_text(), end="")
    if args.pairs:
        confused_pair_change(*args.pairs, out=args.out)
        print((args.out / "pair_change.md").read_text(), end="")
    print(f"wrote {args.out}/compare.csv, compare.md{', pair_change.*' if args.pairs else ''} ({len(rows)} configs)")
    return 0

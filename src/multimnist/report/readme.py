"""The README's results tables, rendered from a results.json (what `multimnist report` writes), so the numbers
the README quotes are the report's, never typed by hand.

The tables live between BEGIN and END in README.md. To refresh them from a finished paper run:

    cp runs/paper/results.json docs/results/paper.json
    python -m multimnist.report.readme docs/results/paper.json README.md

`--check` exits 1 instead of writing when the README's tables differ (the test suite checks the same).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from multimnist.errors import UserError
from multimnist.experiments.compare import STUDY
from multimnist.files import write_text
from multimnist.formatting import MISSING
from multimnist.layout import read_json
from multimnist.report.claims import counts_text
from multimnist.report.criteria import stat_text
from multimnist.report.study import HEADLINE, display_order, study_figures

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def readme_tables(results: dict) -> str:
    """The Markdown between the README's markers: headline networks, ablations, compression sweep, samplers, claims."""
    profile = (results.get("profile") or {}).get("name", "?")
    lines = [f"Profile `{profile}`, multimnist {results.get('version') or '?'}, data preset "
             f"`{results.get('preset') or 'none'}`; accuracy in %, mean ± std (n seeds). Rendered from results.json "
             "by `python -m multimnist.report.readme`; do not edit by hand.", ""]
    lines += _headline(results["classifiers"]) + _ablations(results["classifiers"])
    lines += _compression(results.get("compression") or []) + _generation(results.get("generation"))
    lines += _claims(results)
    return "\n".join(lines).rstrip("\n")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows), ""]


def _headline(configs: dict) -> list[str]:
    rows = [[name, str(c["n"]), stat_text(c["test_accuracy"], n=False), stat_text(c["best_val_accuracy"], n=False),
             stat_text(c["train_accuracy"], n=False), stat_text(c["train_val_gap"], n=False),
             " / ".join(study_figures(name)[:3]) if name in STUDY else MISSING]
            for name in HEADLINE if (c := configs.get(f"classifiers/{name}"))]
    if not rows:
        return []
    return _table(["network", "seeds", "test", "best val", "train", "train - val gap", "study val / test / train"],
                  rows)


def _ablations(configs: dict) -> list[str]:
    rows = [[g.split("/", 1)[1], str(c["n"]), stat_text(c["test_accuracy"], n=False),
             stat_text(c["train_val_gap"], n=False)]
            for g, c in sorted(configs.items(), key=lambda gc: display_order(gc[0]))
            if g.startswith(("ablations/", "sweeps/"))]
    return _table(["ablation or side experiment", "seeds", "test", "train - val gap"], rows) if rows else []


def _compression(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    return _table(["compression factor", "latent size", "test MSE"],
                  [[str(r["factor"]), str(r["latent_size"]), stat_text(r["test_mse"], 1, 5)] for r in rows])


def _share(v, ci) -> str:
    if v is None:
        return MISSING
    return f"{100 * v:.1f}%" + (f" [{100 * ci[0]:.1f}–{100 * ci[1]:.1f}]" if ci else "")


def _generation(g: dict | None) -> list[str]:
    if not g:
        return []
    rows = [[r["sampler"], _share(r["readable_share"], r["readable_share_ci"]),
             _share(r["outside_1_50_share"], r["outside_1_50_ci"]),
             MISSING if r["distinct_numbers"] is None else f"{r['distinct_numbers']:.1f}",
             MISSING if r["frechet_distance"] is None else f"{r['frechet_distance']:.1f}"] for r in g["rows"]]
    return [f"{g['n']} decoded images per sampler; readable: the reader at least {g['readable_threshold']} sure of "
            f"both digits; distinct numbers among {g['equal_n'] or MISSING} readable images each; 95% intervals.", "",
            *_table(["sampler", "readable", "outside 1..50", "distinct numbers", "Frechet distance"], rows)]


def _claims(results: dict) -> list[str]:
    claims = results.get("claims") or []
    if not claims:
        return []
    rows = [[c["statement"], c["study"], c["ours"], c["verdict"]] for c in claims]
    return [counts_text(results["verdicts"]) + ".", "", *_table(["claim", "study", "ours", "verdict"], rows)]


def block(text: str) -> str | None:
    """What lies between the README's markers (without the newlines next to them); None without markers."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        return None
    return text[start + len(BEGIN):end].strip("\n")


def replace_block(text: str, tables: str) -> str:
    """`text` with the part between the markers replaced by `tables`."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise UserError(f"no {BEGIN} ... {END} markers in the README")
    return text[:start + len(BEGIN)] + "\n" + tables + "\n" + text[end:]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m multimnist.report.readme", description=__doc__.split("\n")[0])
    parser.add_argument("results", type=Path, help="a results.json written by `multimnist report`")
    parser.add_argument("readme", type=Path, help="the README holding the markers")
    parser.add_argument("--check", action="store_true", help="exit 1 if the README's tables differ; write nothing")
    args = parser.parse_args(argv)
    try:
        tables = readme_tables(read_json(args.results))
        text = args.readme.read_text()
        updated = replace_block(text, tables)
    except (UserError, OSError) as e:
        sys.stderr.write(f"error: {e}\n")
        return 2
    if args.check:
        return 0 if updated == text else 1
    write_text(args.readme, updated)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

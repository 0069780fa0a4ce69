"""Every claim's verdict in every regime: finished `reproduce` folders side by side (`multimnist report --across`).

A regime is the data a run studied: a preset, or a user's files (report/results.py `data_label`). Each run's
results.json holds its claims table as its own report judged it; this module judges nothing again (one rule set:
report/claims.py and report/criteria.py), it reads the verdicts and the numbers and lines them up:

    robust        the same verdict in every regime
    flips         different decided verdicts (yes, partly, no): the row says under which regimes the claim holds
    unsettled     one decided verdict where the data could decide, undecided elsewhere (within noise: the
                  interval holds zero and the claim; untestable: too few seeds to see the claimed effect), or
                  undecided everywhere in different ways; no regime contradicts another
    incomplete    the same verdict wherever it was judged, n/a (or absent) elsewhere
    not judged    n/a everywhere

`across(runs)` is pure, `with_regularizers(runs)` adds what the runs' folders say of the regularizers;
`write_across(runs, out)` writes OUT/across.json, across.md, across.html and effects.png.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from multimnist.errors import UserError
from multimnist.files import write_json, write_text
from multimnist.formatting import MISSING
from multimnist.layout import read_json
from multimnist.report.claims import NOT_COUNTED
from multimnist.report.html import Figure, Section, Table, render_html, render_markdown
from multimnist.report.regimes import config_folders, regime_table_data, regimes_section, write_regime_files
from multimnist.report.results import OBJECT, TEXT, data_label, data_text, require

RESULTS = "results.json"
RUN = {"claims": (list,), "verdicts": OBJECT}
CLAIM = {"key": TEXT, "statement": TEXT, "verdict": TEXT, "ours": TEXT, "n": OBJECT}
HOLDS = ("yes", "partly")  # a claim holds (in part) where its verdict is one of these
DECIDED = (*HOLDS, "no")  # the data decided; within noise and untestable leave the claim open
# Not a verdict on the data: n/a, the claim absent from a run's table (None: another multimnist version), and the
# figures a preset was made to match or that follow from them (claims.NOT_COUNTED), which no regime can flip.
NOT_JUDGED = ("n/a", None, *NOT_COUNTED)
STATUSES = ("robust", "flips", "unsettled", "incomplete", "not judged")
FIGURE = "effects.png"


def load_runs(runs: Sequence[str | Path]) -> list[dict]:
    """Each run's results.json (strictly: a missing or broken file is one error naming it) with its regime's name;
    two runs on the same data get their folder's name beside it."""
    if len(runs) < 2:
        raise UserError("--across needs at least two reproduce folders to compare")
    loaded = []
    for run in map(Path, runs):
        path = run / RESULTS
        if not path.is_file():
            raise UserError(f"{run} holds no {RESULTS}: give the folders `multimnist reproduce --out` wrote, once "
                            "their report is written (`multimnist report RUN` writes it again)")
        results = require(read_json(path), RUN, path)
        for claim in results["claims"]:
            require(claim, CLAIM, path)
        source = results.get("data_source") or {"kind": "preset", "preset": results.get("preset")}
        loaded.append({"run": str(run), "regime": data_label(source), "data": source, "results": results})
    names = [r["regime"] for r in loaded]
    for r in loaded:
        if names.count(r["regime"]) > 1:
            r["regime"] = f"{r['regime']} [{r['run']}]"
    if len({r["regime"] for r in loaded}) < len(loaded):
        raise UserError("--across was given the same folder twice")
    return loaded


def status(verdicts: Sequence[str | None]) -> str:
    """One claim's row, from its verdict in each regime (None: not in that run's table); a regime where the claim
    was by construction or dependent does not count, as it would not in the claims table's tally."""
    judged = [v for v in verdicts if v not in NOT_JUDGED]
    if not judged:
        return "not judged"
    if len(set(judged)) > 1:
        return "flips" if len({v for v in judged if v in DECIDED}) > 1 else "unsettled"
    return "robust" if len(judged) == len(verdicts) else "incomplete"


def where(verdicts: dict[str, str | None]) -> str:
    """Which verdict under which regimes: 'holds under faint (yes); no under study, few-source-digits' (the
    first part only where the claim holds somewhere)."""
    by: dict[str, list[str]] = {}
    for regime, verdict in verdicts.items():
        by.setdefault(verdict or "absent", []).append(regime)
    held = [f"{', '.join(by[v])} ({v})" for v in HOLDS if v in by]
    parts = ["holds under " + "; ".join(held)] if held else []
    parts += [f"{v} under {', '.join(rs)}" for v, rs in by.items() if v not in HOLDS]
    return "; ".join(parts)


def across(runs: list[dict]) -> dict:
    """The matrix from `load_runs`' list: the regimes, each claim's verdict per regime with its status, and each
    cell's numbers (the claims table's text, n and estimates). Plain JSON."""
    regimes = [r["regime"] for r in runs]
    tables = [{c["key"]: c for c in r["results"]["claims"]} for r in runs]
    keys = list(dict.fromkeys(k for t in tables for k in t))
    claims, cells = [], []
    for key in keys:
        first = next(t[key] for t in tables if key in t)
        verdicts = {regime: t[key]["verdict"] if key in t else None for regime, t in zip(regimes, tables, strict=True)}
        row_status = status(list(verdicts.values()))
        claims.append({"key": key, "statement": first["statement"], "beyond": bool(first.get("beyond")),
                       "verdicts": verdicts, "status": row_status,
                       "holds_under": [r for r, v in verdicts.items() if v in HOLDS],
                       "where": f"{next(iter(set(verdicts.values()) - {None, 'n/a'}))} everywhere"
                       if row_status == "robust" else where(verdicts)})
        cells += [{"key": key, "regime": regime, "verdict": t[key]["verdict"], "ours": t[key]["ours"],
                   "n": t[key]["n"], "estimates": t[key].get("estimates") or []}
                  for regime, t in zip(regimes, tables, strict=True) if key in t]
    return {
        "regimes": [{"name": r["regime"], "run": r["run"], "data": r["data"],
                     "profile": (r["results"].get("profile") or {}).get("name"),
                     "version": r["results"].get("version"), "verdicts": r["results"]["verdicts"]} for r in runs],
        "claims": claims,
        "cells": cells,
        "counts": {s: sum(c["status"] == s for c in claims if not c["beyond"]) for s in STATUSES},
    }


def with_regularizers(runs: list[dict]) -> dict:
    """`across(runs)` and, where every run holds the regularizers' folders, their view of the matrix under
    "regularizers" (report/regimes.py): what across.json holds."""
    matrix = across(runs)
    folders = {r["regime"]: config_folders(r["run"]) for r in runs}
    if all(folders.values()):
        matrix["regularizers"] = regime_table_data(folders)
    return matrix


def counts_line(matrix: dict) -> str:
    counts = matrix["counts"]
    return (f"{sum(counts.values())} of the study's claims across {len(matrix['regimes'])} regimes: "
            + ", ".join(f"{s} {counts[s]}" for s in STATUSES) + " (the project's own claims apart)")


def sections(matrix: dict, figure: bool) -> list[Section]:
    """The report's sections: the regimes, the matrix, each cell's numbers and the effects figure."""
    regimes = [r["name"] for r in matrix["regimes"]]
    s1 = Section("Regimes", [f"{r['name']}: {r['run']}, profile {r['profile']}, multimnist {r['version']}, on "
                             f"{data_text(r['data'])}." for r in matrix["regimes"]])
    s2 = Section("Claims by regime", [
        "Each claim's verdict as the claims table of each run judged it (report/claims.py: one rule set). Robust: "
        "the same verdict in every regime; flips: different decided verdicts (yes, partly, no), with where the "
        "claim holds (yes or partly); unsettled: decided in at most one way, left open elsewhere (within noise or "
        "untestable), so no regime contradicts another; incomplete: the same verdict wherever judged; n/a, by "
        "construction or dependent elsewhere. A verdict's numbers show on hover, and in the table below.",
        counts_line(matrix) + "."])
    ours = {(c["key"], c["regime"]): c["ours"] for c in matrix["cells"]}
    for beyond, title in ((False, "The study's claims"), (True, "Beyond the study: the project's own claims")):
        claims = [c for c in matrix["claims"] if c["beyond"] == beyond]
        rows = [[c["statement"], *(c["verdicts"][r] or MISSING for r in regimes), c["status"], c["where"]]
                for c in claims]
        hints = [["", *(ours.get((c["key"], r), "") for r in regimes), "", ""] for c in claims]  # a cell's numbers
        if rows:
            s2.tables.append(Table(["claim", *regimes, "across regimes", "where"], rows, title, hints))
    s3 = Section("Numbers per cell", ["Each cell's numbers as its run's claims table gives them: ours (mean ± std "
                                      "(n seeds), the estimate with its 95% interval and the claimed effect), and n "
                                      "per configuration compared."])
    statements = {c["key"]: c["statement"] for c in matrix["claims"]}
    s3.tables.append(Table(["claim", "regime", "verdict", "ours", "n"],
                           [[statements[c["key"]], c["regime"], c["verdict"], c["ours"],
                             ", ".join(f"{k} {n}" for k, n in c["n"].items()) or MISSING] for c in matrix["cells"]]))
    if figure:
        s2.figures.append(Figure(FIGURE, "Each claim's estimates per regime with their 95% intervals (dashed: the "
                                         "claimed effect; dotted: zero)"))
    return [s1, s2, s3]


def write_across(runs: Sequence[str | Path], out: str | Path) -> Path:
    """Read the runs, write OUT/across.json, across.md, across.html and (where a claim has estimates) effects.png;
    returns the HTML's path."""
    from multimnist.figures.png import effects_figure  # matplotlib: only when drawing

    out = Path(out)
    loaded = load_runs(runs)
    matrix = with_regularizers(loaded)
    drawn = effects_figure(matrix, out / FIGURE) is not None
    if "regularizers" in matrix:
        write_regime_files(out, matrix["regularizers"], {r["regime"]: config_folders(r["run"]) for r in loaded})
    title = "Multi-MNIST study: every claim in every regime"
    subtitle = (f"{len(matrix['regimes'])} reproductions of D. Bertoldi, 'Regularization techniques and Autoencoder "
                f"on Multi-MNIST', side by side: {', '.join(r['name'] for r in matrix['regimes'])}.")
    write_json(out / "across.json", matrix)
    parts = sections(matrix, drawn)
    if "regularizers" in matrix:
        parts.append(regimes_section(matrix["regularizers"]))
    write_text(out / "across.md", render_markdown(title, subtitle, parts))
    write_text(out / "across.html", render_html(title, subtitle, parts))
    return out / "across.html"

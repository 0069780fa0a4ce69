"""Every claim's verdict in every regime: finished `reproduce` folders side by side (`multimnist report --across`).

A regime is the data a run studied: a preset, or a user's files (report/results.py `data_label`). Each run's
results.json holds its claims table as its own report judged it; this module judges nothing again (one rule set:
report/claims.py and report/criteria.py), it reads the verdicts and the numbers and lines them up:

    robust        the same decided verdict (yes, partly with the same parts holding, no) in every regime
    flips         different decided verdicts, and a regime-by-effect test rejects equal effects: the difference
                  of the claim's estimates between two regimes (Welch, Holm over the claim's parts and regime
                  pairs) is beyond noise; the row says under which regimes the claim holds
    consistent    different decided verdicts, but no regime-by-effect test rejects equal effects: the verdicts
                  differ by the width of the intervals, not by the data
    unsettled     one decided verdict where the data could decide, undecided elsewhere (within noise: the
                  interval holds zero and the claim; untestable: the design cannot see the claimed effect)
    undecided     undecided (within noise, untestable) wherever judged
    incomplete    the same decided verdict wherever it was judged, n/a (or absent) elsewhere
    not judged    n/a everywhere

`across(runs)` is pure, `with_regularizers(runs)` adds what the runs' folders say of the regularizers;
`write_across(runs, out)` writes OUT/across.json, across.md, across.html and effects.png.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path

from multimnist.errors import UserError
from multimnist.evaluation.noise import ALPHA, holm, p_text
from multimnist.files import write_json, write_text
from multimnist.formatting import MISSING
from multimnist.layout import read_json
from multimnist.report.claims import NOT_COUNTED
from multimnist.report.html import Figure, Section, Table, render_html, render_markdown
from multimnist.report.regimes import config_folders, regime_table_data, regimes_section, write_regime_files
from multimnist.report.results import OBJECT, TEXT, data_label, data_text, require

from scipy import stats

RESULTS = "results.json"
RUN = {"claims": (list,), "verdicts": OBJECT}
UNDECIDED = ("within noise", "untestable")
CLAIM = {"key": TEXT, "statement": TEXT, "verdict": TEXT, "ours": TEXT, "n": OBJECT}
HOLDS = ("yes", "partly")  # a claim holds (in part) where its verdict is one of these
DECIDED = (*HOLDS, "no")  # the data decided; within noise and untestable leave the claim open
# Not a verdict on the data: n/a, the claim absent from a run's table (None: another multimnist version), and the
# figures a preset was made to match or that follow from them (claims.NOT_COUNTED), which no regime can flip.
NOT_JUDGED = ("n/a", None, *NOT_COUNTED)
STATUSES = ("robust", "flips", "consistent", "unsettled", "undecided", "incomplete", "not judged")
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


def status(verdicts: Sequence[str | None], parts: Sequence[tuple | None] | None = None,
           differs: bool | None = None) -> str:
    """One claim's row, from its verdict in each regime (None: not in that run's table); a regime where the claim
    was by construction or dependent does not count, as it would not in the claims table's tally.

    `parts`: each regime's verdicts of the claim's tests (a "partly" holds the same only where the same parts
    hold); `differs`: whether a regime-by-effect test rejected equal effects (`interaction`); different decided
    verdicts are a flip only then, and consistent otherwise."""
    parts = list(parts) if parts is not None else [None] * len(verdicts)
    judged = [(v, p) for v, p in zip(verdicts, parts, strict=True) if v not in NOT_JUDGED]
    if not judged:
        return "not judged"
    decided = [(v, _holding(p) if v == "partly" else None) for v, p in judged if v in DECIDED]
    if not decided:
        return "undecided"
    if len(set(decided)) > 1:
        return "flips" if differs else "consistent"
    if len(decided) < len(judged):
        return "unsettled"
    return "robust" if len(judged) == len(verdicts) else "incomplete"


def part_verdicts(cell: dict) -> tuple[str, ...] | None:
    """Each test's verdict of one claims-table row: `parts` as results.json holds it, or, for a results.json
    written before it did, read from the row's `why`, which names each part's verdict as '(i) verdict:'."""
    if cell.get("parts"):
        return tuple(cell["parts"])
    found = re.findall(r"\((\d+)\) (yes|no|within noise|untestable|n/a)\b", cell.get("why") or "")
    return tuple(v for _, v in sorted({int(i): v for i, v in found}.items())) or None


def _se_df(est: dict, n: dict) -> tuple[float, float] | None:
    """An estimate's standard error and degrees of freedom: as stored, or for a results.json written before they
    were, a conservative bound from its 95% interval and the seeds: the largest se and the fewest df its Welch
    df could have had (n_a + n_b - 2 and min(n) - 1; n - 1 for one mean), so no interaction is overstated."""
    if est.get("se") and est.get("df"):
        return float(est["se"]), float(est["df"])
    ci, sides = est.get("interval"), [n.get(s.strip()) for s in str(est.get("what", "")).split(" - ")]
    if not ci or None in sides or min(sides) < 2:
        return None
    low, high = (min(sides) - 1, sum(sides) - 2) if len(sides) == 2 else (sides[0] - 1, sides[0] - 1)
    half = (ci[1] - ci[0]) / 2
    level = est.get("level") or 0.95
    return half / float(stats.t.ppf((1 + level) / 2, high)), float(low)


def interaction(cells: dict[str, dict]) -> list[dict]:
    """Regime-by-effect tests of one claim: for each of its parts and each pair of regimes, the difference of the
    two estimates with its Welch standard error and df, the two-sided p of equal effects, and that p
    Holm-adjusted over all of the claim's (part, pair) tests. `cells`: regime -> the claim's row there."""
    tests = []
    for (ra, ca), (rb, cb) in combinations(cells.items(), 2):
        by_part = {e["part"]: e for e in cb.get("estimates") or []}
        for ea in ca.get("estimates") or []:
            eb = by_part.get(ea["part"])
            a, b = _se_df(ea, ca.get("n") or {}), _se_df(eb, cb.get("n") or {}) if eb else None
            if a is None or b is None or not a[0] or not b[0]:  # zero spread: no noise estimate, no test
                continue
            se = math.hypot(a[0], b[0])
            df = se ** 4 / (a[0] ** 4 / a[1] + b[0] ** 4 / b[1])
            diff = ea["value"] - eb["value"]
            tests.append({"part": ea["part"], "regimes": [ra, rb], "what": ea.get("what"), "unit": ea.get("unit"),
                          "difference": diff, "se": se, "df": df,
                          "p": float(2 * stats.t.sf(abs(diff) / se, df)) if se > 0 else None})
    for t, adjusted in zip(tests, holm([t["p"] for t in tests]), strict=True):
        t["p_holm"] = adjusted
    return tests


def _decided(cell: dict) -> tuple | None:
    """A row's decided verdict, a "partly" with the parts that hold; None where undecided."""
    v = cell["verdict"]
    return (v, _holding(part_verdicts(cell)) if v == "partly" else None) if v in DECIDED else None


def _holding(parts: Sequence[str] | None) -> tuple[int, ...] | None:
    """Which of a "partly" claim's parts hold (1-based), None where the parts are not known."""
    return tuple(i for i, v in enumerate(parts, 1) if v == "yes") if parts else None


def _flip(test: dict, cells: dict[str, dict]) -> bool:
    """Whether a regime-by-effect test shows a flip: equal effects rejected (Holm) between two regimes whose
    decided verdicts differ, on a part whose own verdict differs between them (where the parts are known)."""
    if test["p_holm"] is None or test["p_holm"] >= ALPHA:
        return False
    a, b = (cells[r] for r in test["regimes"])
    if _decided(a) is None or _decided(b) is None or _decided(a) == _decided(b):
        return False
    pa, pb = part_verdicts(a), part_verdicts(b)
    i = test["part"] - 1
    return not (pa and pb and i < min(len(pa), len(pb)) and pa[i] == pb[i])


def interaction_text(tests: list[dict], cells: dict[str, dict]) -> str:
    """The regime-by-effect test in a line: of the pairs of regimes whose decided verdicts differ, the one with the
    smallest Holm-adjusted p (else of all pairs), its estimate, p and what it shows."""
    scored = [t for t in tests if t["p_holm"] is not None]
    if not scored:
        return "no regime-by-effect test (no estimates with a spread in two regimes)"
    differing = [t for t in scored if None not in (_decided(cells[t["regimes"][0]]), _decided(cells[t["regimes"][1]]))
                 and _decided(cells[t["regimes"][0]]) != _decided(cells[t["regimes"][1]])]
    t = min(differing or scored, key=lambda x: x["p_holm"])
    shows = (": the effects differ (a flip)" if _flip(t, cells) else
             ": equal effects not rejected" if t["p_holm"] >= ALPHA else
             ": the effects differ, on a part whose verdict is the same in both" if differing else
             ": the effects differ, between regimes with the same verdict")
    return (f"regime-by-effect: ({t['part']}) {t['regimes'][0]} minus {t['regimes'][1]} "
            f"{t['difference']:+.2f}{' ' + t['unit'] if t['unit'] else ''} (se {t['se']:.2f}, df {t['df']:.1f}), "
            f"{p_text(t['p'])}, Holm over {len(scored)} tests {p_text(t['p_holm'])}{shows}")


def readings_differ(key: str, runs: list[dict]) -> list[str]:
    """The regimes whose run states claim `key`'s criterion otherwise than the newest run (by multimnist version)
    that has it: a matrix mixing versions may compare a claim read two ways, and the row must say so."""
    having = [r for r in runs if any(c["key"] == key for c in r["results"]["claims"])]
    if len(having) < 2:
        return []

    def criterion(r: dict) -> str | None:
        return next(c.get("criterion") for c in r["results"]["claims"] if c["key"] == key)

    newest = max(having, key=lambda r: _version(r["results"].get("version")))
    return [r["regime"] for r in having if criterion(r) != criterion(newest)]


def _version(text: str | None) -> tuple[int, ...]:
    """'0.4.0' -> (0, 4, 0); a missing or unreadable version sorts first."""
    try:
        return tuple(int(x) for x in str(text).split("."))
    except ValueError:
        return ()


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
        parts = [part_verdicts(t[key]) if key in t else None for t in tables]
        judged = {regime: t[key] for regime, t in zip(regimes, tables, strict=True)
                  if key in t and t[key]["verdict"] not in NOT_JUDGED}
        tests = interaction(judged)
        differs = any(_flip(t, judged) for t in tests)
        row_status = status(list(verdicts.values()), parts, differs)
        reread = readings_differ(key, runs)
        claims.append({"key": key, "statement": first["statement"], "beyond": bool(first.get("beyond")),
                       "verdicts": verdicts, "status": row_status, "interaction": tests,
                       "interaction_text": interaction_text(tests, judged),
                       "holds_under": [r for r, v in verdicts.items() if v in HOLDS],
                       "readings_differ": reread,
                       "where": (f"{next(iter(set(verdicts.values()) - {None, 'n/a'}))} everywhere"
                                 if row_status == "robust" else where(verdicts))
                       + (f"; criterion worded otherwise under {', '.join(reread)} (an older run)" if reread else "")})
        cells += [{"key": key, "regime": regime, "verdict": t[key]["verdict"], "ours": t[key]["ours"],
                   "n": t[key]["n"], "estimates": t[key].get("estimates") or [],
                   "decided": (t[key].get("sequential") or {}).get("status")}
                  for regime, t in zip(regimes, tables, strict=True) if key in t]
    return {
        "regimes": [{"name": r["regime"], "run": r["run"], "data": r["data"],
                     "profile": (r["results"].get("profile") or {}).get("name"),
                     "seeds": len((r["results"].get("profile") or {}).get("seeds") or ()) or None,
                     "max_seeds": (r["results"].get("profile") or {}).get("max_seeds"),
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
        "the same decided verdict (yes, no, or partly with the same parts holding) in every regime; flips: "
        "different decided verdicts and a regime-by-effect test (the difference of the claim's estimates between "
        "two regimes, Welch, Holm over its parts and regime pairs) rejects equal effects, with where the claim "
        "holds; consistent: different decided verdicts that no such test separates (they differ by the width of "
        "the intervals); unsettled: decided in one way, left open elsewhere (within noise or untestable); "
        "undecided: open wherever judged; incomplete: the same decided verdict wherever judged, n/a, by "
        "construction or dependent elsewhere. A verdict's numbers show on hover, the regime-by-effect estimate and "
        "p on the status's hover, and both in the tables below.",
        counts_line(matrix) + "."])
    ours = {(c["key"], c["regime"]): c["ours"] for c in matrix["cells"]}
    for beyond, title in ((False, "The study's claims"), (True, "Beyond the study: the project's own claims")):
        claims = [c for c in matrix["claims"] if c["beyond"] == beyond]
        rows = [[c["statement"], *(c["verdicts"][r] or MISSING for r in regimes), c["status"], c["where"]]
                for c in claims]
        hints = [["", *(ours.get((c["key"], r), "") for r in regimes), c.get("interaction_text", ""), ""]
                 for c in claims]  # a cell's numbers; the status: its regime-by-effect test
        if rows:
            s2.tables.append(Table(["claim", *regimes, "across regimes", "where"], rows, title, hints))
    s3 = Section("Numbers per cell", ["Each cell's numbers as its run's claims table gives them: ours (mean ± std "
                                      "(n seeds), the estimate with its 95% interval and the claimed effect), and n "
                                      "per configuration compared."])
    statements = {c["key"]: c["statement"] for c in matrix["claims"]}
    s3.tables.append(Table(["claim", "across regimes", "regime-by-effect test"],
                           [[c["statement"], c["status"], c.get("interaction_text") or MISSING]
                            for c in matrix["claims"]], "Regime-by-effect tests"))
    s3.tables.append(Table(["claim", "regime", "verdict", "decided", "ours", "n"],
                           [[statements[c["key"]], c["regime"], c["verdict"], c.get("decided") or MISSING, c["ours"],
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

"""The generated blocks of README.md and docs/results.md, rendered from committed JSON (what `multimnist report`,
`report --across` and `benchmarks/timings.py` write), so every number they quote is a file's, never typed by hand.

Each block lives between its markers, in whichever of the given pages holds them: the study preset's tables
(BEGIN, END) and the claims by regime (ACROSS_*) and the regularizers (REGIMES_*) in docs/results.md; the claims
summary (SUMMARY_*), the samplers (GENERATION_*, from the
results.json given) and the timings (TIMINGS_*) in README.md. To refresh them:

    make matrix    # each preset's paper run digested into docs/results/runs/PRESET, then docs/results/across.json
    make timings   # docs/results/timings.json from the digests' steps.json (and any recorded local runs)
    python -m multimnist.report.readme docs/results/runs/study/results.json README.md docs/results.md \
        --across docs/results/across.json --timings docs/results/timings.json

`--check` exits 1 instead of writing when a page's blocks differ (the test suite checks the same).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from multimnist import paper
from multimnist.errors import UserError
from multimnist.files import write_text
from multimnist.formatting import MISSING
from multimnist.layout import read_json
from multimnist.report.across import STATUSES
from multimnist.report.claims import BEST_SAMPLER, CHALLENGER_HISTORY, FAMILIES, NOT_COUNTED, counts_text
from multimnist.report.criteria import stat_text
from multimnist.report.study import display_order, study_figures

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
REGIMES_BEGIN, REGIMES_END = "<!-- regimes:begin -->", "<!-- regimes:end -->"
ACROSS_BEGIN, ACROSS_END = "<!-- across:begin -->", "<!-- across:end -->"
SUMMARY_BEGIN, SUMMARY_END = "<!-- claims:begin -->", "<!-- claims:end -->"
TIMINGS_BEGIN, TIMINGS_END = "<!-- timings:begin -->", "<!-- timings:end -->"
GENERATION_BEGIN, GENERATION_END = "<!-- generation:begin -->", "<!-- generation:end -->"
README_SAMPLERS = ("gaussian", "gmm", BEST_SAMPLER)  # the study's, the mixture by BIC, the claims'
GENERATION_CLAIMS = ("better_sampler", "sampler_near_ceiling", "numbers_on_request")  # the README's, in this order
MARKS = {"helps": "✓", "hurts": "✗", "within noise": "~"}


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
             " / ".join(study_figures(name)[:3]) if name in paper.ACCURACY else MISSING]
            for name in paper.HEADLINE if (c := configs.get(f"classifiers/{name}"))]
    if not rows:
        return []
    table = _table(["network", "seeds", "test", "best val", "train", "train - val gap", "study val / test / train"],
                   rows)
    return table + ([f"The challenger: {CHALLENGER_HISTORY}.", ""] if any(r[0] == "challenger" for r in rows) else [])


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


def _generation(g: dict | None) -> list[str]:
    if not g:
        return []
    rows = [[r["sampler"], str(r["seeds"]), stat_text(r["readable_share"], n=False),
             stat_text(r["outside_1_50_share"], n=False), stat_text(r["distinct_numbers"], 1, 1, n=False),
             stat_text(r["frechet_distance"], 1, 1, n=False)] for r in g["rows"]]
    seeds = ", ".join(map(str, g["autoencoder_seeds"]))
    return [f"{g['n_per_seed']} images per sampler on each autoencoder seed ({seeds}), mean ± std over the seeds; "
            f"readable: the reader at least {g['readable_threshold']} sure of both digits; "
            "reconstruction: test images through the autoencoder (the control).", "",
            *_table(["images", "seeds", "readable %", "outside 1..50 % of readable", "distinct numbers",
                     "Frechet distance"], rows)]


def generation_table(results: dict) -> str | None:
    """The README's generation block: each sampler's readable share, Frechet distance and share read as the
    number asked, beside the reconstructions (the decoder's ceiling) and real images, over the run's autoencoder
    seeds, then the verdicts of the project's generation claims; None for a run without scored samplers."""
    g = results.get("generation")
    if not g or not g.get("rows"):
        return None
    shown = [r for r in g["rows"] if r["kind"] != "sampler" or r["sampler"] in README_SAMPLERS]
    rows = [[f"`{r['sampler']}`" if r["kind"] == "sampler" else r["sampler"],
             stat_text(r["readable_share"], n=False), stat_text(r["frechet_distance"], 1, 1, n=False),
             stat_text(r.get("as_requested_share") or {"mean": None}, n=False),
             stat_text(r.get("code_nn_ratio") or {"mean": None}, 1, 2, n=False)] for r in shown]
    seeds = ", ".join(map(str, g["autoencoder_seeds"]))
    claims = [c for c in results.get("claims") or [] if c["key"] in GENERATION_CLAIMS]
    profile = (results.get("profile") or {}).get("name")
    lines = [f"Data preset `{results.get('preset') or 'none'}`, profile `{profile}`, "
             f"multimnist {results.get('version') or '?'}: {g['n_per_seed']} images a row on each autoencoder seed "
             f"({seeds}), mean ± std over the seeds. Readable: the reader at least {g['readable_threshold']} sure of "
             "both digits; as asked: readable and read as the number asked (reconstructions and real images: as "
             "their own); code distance: nearest training code against held-out codes' (below 1: closer than "
             "unseen data); every sampler's row: docs/results.md. Rendered from that run's results.json by "
             "`python -m multimnist.report.readme`.", "",
             *_table(["images", "readable %", "Frechet distance", "read as asked %", "code distance"], rows)]
    lines += [f"- {c['statement']}: **{c['verdict']}**. {c['ours']}; {c['why']}." for c in claims]
    if BEST_SAMPLER not in {r["sampler"] for r in g["rows"]}:
        lines += [f"- This run predates `{BEST_SAMPLER}` and the claims on it: [Generation](docs/generation.md) "
                      "gives its development figures until the paper runs are made again."]
    return "\n".join(lines).rstrip("\n")


def _claims(results: dict) -> list[str]:
    claims = results.get("claims") or []
    if not claims:
        return []
    study = [c for c in claims if not c.get("beyond") and c["verdict"] not in NOT_COUNTED]
    apart = [c for c in claims if not c.get("beyond") and c["verdict"] in NOT_COUNTED]
    ours = [c for c in claims if c.get("beyond")]
    lines = [counts_text(results["verdicts"]) + ".", "",
             *_table(["claim", "study", "ours", "verdict"], [[c["statement"], c["study"], c["ours"], c["verdict"]]
                                                            for c in study])]
    if apart:
        lines += ["Not counted: by construction (the data was made to match) or dependent (follows from such a "
                  "figure).", "", *_table(["claim", "study", "ours", "verdict", "why"],
                                          [[c["statement"], c["study"], c["ours"], c["verdict"],
                                            c["why"].split("; not counted")[0]] for c in apart])]
    if ours:
        lines += ["Beyond the study, by the same rules (not in the tally above):", "",
                  *_table(["claim", "ours", "verdict"], [[c["statement"], c["ours"], c["verdict"]] for c in ours])]
    return lines


def regime_table(regimes: dict) -> str:
    """The regime study's table: per preset the unregularized network's figures and each regularizer's gain."""
    rows, configs = regimes["rows"], [c for c in regimes["configs"] if c != "unregularized"]
    by = {(r["preset"], r["config"]): r for r in rows}
    out = []
    for preset in regimes["presets"]:
        base = by[preset, "unregularized"]
        cells = [preset, f"{100 * base['test_mean']:.1f} ± {100 * base['test_std']:.1f}",
                 f"{100 * base['train_mean']:.1f}", f"{100 * base['best_val_mean']:.1f}"]
        for name in configs:
            r = by[preset, name]
            mark = MARKS.get(r["verdict"], r["verdict"])
            cells.append(MISSING if r["gain_mean"] is None else
                         f"{100 * r['gain_mean']:+.1f} ± {100 * r['gain_se']:.1f} {mark}")
        out.append(cells)
    header = ["preset", "unregularized test (mean ± std)", "train", "best val",
              *(f"{c} (gain ± se)" for c in configs)]
    return "\n".join(_table(header, out)).rstrip("\n")


def block(text: str, begin: str = BEGIN, end: str = END) -> str | None:
    """What lies between the README's markers (without the newlines next to them); None without markers."""
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        return None
    return text[start + len(begin):stop].strip("\n")


def replace_block(text: str, tables: str, begin: str = BEGIN, end: str = END) -> str:
    """`text` with the part between the markers replaced by `tables`."""
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise UserError(f"no {begin} ... {end} markers in the README")
    return text[:start + len(begin)] + "\n" + tables + "\n" + text[stop:]


def across_tables(matrix: dict) -> str:
    """The claims-by-regime matrix, family by family: each claim's verdict per regime, whether it is robust or
    flips, and a line per family naming what holds everywhere and what depends on the data."""
    regimes = [r["name"] for r in matrix["regimes"]]
    by_key = {c["key"]: c for c in matrix["claims"]}
    counts = matrix["counts"]
    lines = [f"{len(regimes)} paper-profile runs, one per data preset ({', '.join(f'`{r}`' for r in regimes)}), "
             "each claim judged by its own run's claims table (one rule set); rendered from across.json by "
             "`python -m multimnist.report.readme`; do not edit by hand. Of the study's claims: "
             + ", ".join(f"{s} {counts[s]}" for s in STATUSES if counts.get(s)) + ".", ""]
    for family, keys in FAMILIES.items():
        claims = [by_key[k] for k in keys if k in by_key]
        if not claims:
            continue
        lines += [f"**{family.capitalize()}.**", ""]
        lines += _table(["claim", *regimes, "across regimes"],
                        [[c["statement"], *(c["verdicts"].get(r) or MISSING for r in regimes), _status(c)]
                         for c in claims])
        lines += [_family_counts(claims), ""]
    return "\n".join(lines).rstrip("\n")


def _status(claim: dict) -> str:
    """'robust', or 'flips: holds under study (yes); no under faint' where the verdicts differ (flips, consistent:
    differ without a regime-by-effect difference, unsettled)."""
    return (f"{claim['status']}: {claim['where']}" if claim["status"] in ("flips", "consistent", "unsettled")
            else claim["status"])


def _family_counts(claims: list[dict]) -> str:
    """A family's rows counted: 'Robust 10 of 12 (no 7, yes 1, untestable 2); flips 2.' (the verdicts of the
    robust rows, most common first; the table beside it says where each flip holds)."""
    robust = Counter(next(v for v in c["verdicts"].values() if v) for c in claims if c["status"] == "robust")
    parts = [f"Robust {sum(robust.values())} of {len(claims)}"
             + (f" ({', '.join(f'{v} {n}' for v, n in robust.most_common())})" if robust else "")]
    parts += [f"{s} {n}" for s in STATUSES[1:]
              if (n := sum(c["status"] == s for c in claims))]
    return "; ".join(parts) + "."


REREAD = "‡"  # a claim whose criterion an older run in the matrix words otherwise (across.readings_differ)
LEGEND = ("Verdicts: *yes*, *partly*, *no* when the 95% interval of our estimate, or of its difference, settles "
          "the claimed effect; *within noise* when it holds both zero and the claimed effect; *untestable* when "
          "the seeds cannot detect the claimed effect; *by construction* and *dependent* when the data was made to "
          "match the figure, so it is not evidence. Across regimes: *robust* the same decided verdict everywhere; "
          "*flips* different decided verdicts that a regime-by-effect test separates; *consistent* different "
          "decided verdicts that no such test separates; *unsettled* decided in some regimes, open in others; "
          "*undecided* open everywhere; *incomplete* the same decided verdict where judged; *not judged* by "
          "construction everywhere.")


def _design(regime: dict) -> str:
    """How a regime's run chose its seeds: '3 seeds a side', or 'seeds until decided, 3 to 10 a side'."""
    seeds, cap = regime.get("seeds"), regime.get("max_seeds")
    if seeds and cap and cap > seeds:
        return f"seeds until decided, {seeds} to {cap} a side"
    return f"{seeds} seeds a side" if seeds else "seeds not recorded"


def claims_summary(matrix: dict) -> str:
    """The README's one results table: each of the study's claims (not the project's own), its verdict in each
    regime and its status across them, family by family, with the tally and a legend."""
    regimes = [r["name"] for r in matrix["regimes"]]
    by_key = {c["key"]: c for c in matrix["claims"]}
    claims = [by_key[k] for keys in FAMILIES.values() for k in keys if k in by_key and not by_key[k]["beyond"]]
    counts = Counter(c["status"] for c in claims)
    runs = {}  # the regimes by the version and design of their runs
    for r in matrix["regimes"]:
        runs.setdefault(f"multimnist {r.get('version')}, {_design(r)}", []).append(f"`{r['name']}`")
    made = "; ".join(f"{', '.join(names)}: {how}" for how, names in runs.items())
    lines = [f"{len(claims)} of the study's claims, each judged in {len(regimes)} paper-profile runs, one per data "
             f"preset ({made}), each verdict as its run's claims table gave it: "
             + ", ".join(f"{s} {counts[s]}" for s in STATUSES if counts[s]) + ". Rendered from "
             "`docs/results/across.json` by `python -m multimnist.report.readme`.", ""]
    lines += _table(["claim", *(f"`{r}`" for r in regimes), "across regimes"],
                    [[c["statement"], *(c["verdicts"].get(r) or MISSING for r in regimes), status_cell(c)]
                     for c in claims])
    missing = any(c["verdicts"].get(r) is None for c in claims for r in regimes)
    absent = f" *{MISSING}*: not in that run's claims table (its version predates the claim)." if missing else ""
    reread = (f" *{REREAD}*: an older run words the claim's criterion otherwise (docs/results.md says how), so the row "
              "compares readings as well as data." if any(c.get("readings_differ") for c in claims) else "")
    return "\n".join([*lines, LEGEND + absent + reread])



def status_cell(claim: dict) -> str:
    """A claim's status across regimes, marked where an older run read it by another criterion."""
    return claim["status"] + (f" {REREAD}" if claim.get("readings_differ") else "")


def timings_table(timings: dict) -> str:
    """The README's timings: one row per command, the median of its recorded runs, and where they come from."""
    rows = [[f"`{r['command']}`", r["what"], _duration(r["median_seconds"]),
             f"{r['n']} ({_duration(r['min_seconds'])} to {_duration(r['max_seconds'])})" if r["n"] > 1 else "1",
             r["machine"]] for r in timings["rows"]]
    lines = _table(["command", "what runs", "median", "runs (range)", "machine"], rows)
    return "\n".join([*lines, timings["note"]])


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


# The blocks a page may hold: markers -> what renders them from (results, matrix, timings); None where the input
# it needs was not given.
def _blocks(results: dict, matrix: dict | None, regimes: dict | None, timings: dict | None) -> dict:
    regimes = (matrix or {}).get("regularizers", regimes)
    return {(BEGIN, END): readme_tables(results),
            (ACROSS_BEGIN, ACROSS_END): matrix and across_tables(matrix),
            (SUMMARY_BEGIN, SUMMARY_END): matrix and claims_summary(matrix),
            (REGIMES_BEGIN, REGIMES_END): regimes and regime_table(regimes),
            (TIMINGS_BEGIN, TIMINGS_END): timings and timings_table(timings),
            (GENERATION_BEGIN, GENERATION_END): generation_table(results)}


def render(text: str, blocks: dict) -> str:
    """`text` with every block whose markers it holds rendered again (blocks whose input is missing left as they
    are); a page with none of the markers is refused."""
    found = [markers for markers in blocks if block(text, *markers) is not None]
    if not found:
        raise UserError(f"no {BEGIN} ... {END} markers (nor any other block's) in the page")
    for markers in found:
        if blocks[markers] is not None:
            text = replace_block(text, blocks[markers], *markers)
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m multimnist.report.readme", description=__doc__.split("\n")[0])
    parser.add_argument("results", type=Path, help="a results.json written by `multimnist report`")
    parser.add_argument("pages", type=Path, nargs="+", help="the pages holding the markers (README.md, "
                                                             "docs/results.md)")
    parser.add_argument("--across", type=Path, help="an across.json (`multimnist report --across`): the claims by "
                                                   "regime, and the regularizers' table")
    parser.add_argument("--regimes", type=Path, help="a regimes.json alone (the regularizers' table; --across "
                                                    "brings its own)")
    parser.add_argument("--timings", type=Path, help="a timings.json (`make timings`)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a page's blocks differ; write nothing")
    args = parser.parse_args(argv)
    try:
        blocks = _blocks(read_json(args.results), args.across and read_json(args.across),
                         args.regimes and read_json(args.regimes), args.timings and read_json(args.timings))
        texts = {page: page.read_text() for page in args.pages}
        updated = {page: render(text, blocks) for page, text in texts.items()}
    except (UserError, OSError) as e:
        sys.stderr.write(f"error: {e}\n")
        return 2
    if args.check:
        return 0 if updated == texts else 1
    for page, text in updated.items():
        if text != texts[page]:
            write_text(page, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

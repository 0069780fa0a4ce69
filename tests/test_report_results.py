"""The generated blocks of README.md and docs/results.md: rendered from committed JSON (results.json, across.json,
timings.json), round-tripped between their markers, and equal to what the pages hold."""

from __future__ import annotations

import json
import re
from pathlib import Path

from multimnist.formatting import MISSING
from multimnist.layout import step_seconds
from multimnist.report.readme import (
    ACROSS_BEGIN,
    ACROSS_END,
    BEGIN,
    END,
    GENERATION_BEGIN,
    GENERATION_END,
    REGIMES_BEGIN,
    REGIMES_END,
    REREAD,
    SUMMARY_BEGIN,
    SUMMARY_END,
    TIMINGS_BEGIN,
    TIMINGS_END,
    across_tables,
    block,
    claims_summary,
    generation_table,
    main,
    readme_tables,
    regime_table,
    replace_block,
    status_cell,
    timings_table,
)

import pytest

ROOT = Path(__file__).parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "results.json"  # write_report on test_claims.make_study_folder
PAPER = ROOT / "docs" / "results" / "runs" / "study" / "results.json"
README = ROOT / "README.md"
RESULTS_PAGE = ROOT / "docs" / "results.md"  # the site's "What the study got right": the long tables and reading
TIMINGS = ROOT / "docs" / "results" / "timings.json"  # make timings: benchmarks/timings.py


@pytest.fixture(scope="module")
def results() -> dict:
    return json.loads(FIXTURE.read_text())


def test_tables_quote_results_json(results):
    tables = readme_tables(results)
    assert "Profile `paper`, multimnist 0.2.0, data preset `study`" in tables
    assert "| unregularized | 3 | 90.2 ± 0.2 | 91.2 ± 0.2 | 99.2 ± 0.2 | 8.5 ± 0.0 | 91.5 / 89 / 100 |" in tables
    assert "| 20 | 55 | 0.00510 ± 0.00010 (n=3) |" in tables
    assert "| gaussian | 3 | 20.5 ± 0.5 | 15.1 ± 0.1 | 39.0 ± 1.0 | 50.0 ± 0.0 |" in tables  # over 3 autoencoders
    assert "33 of the study's claims checked: yes " in tables
    assert "not counted: 3 by construction, 1 dependent" in tables
    for claim in results["claims"]:
        assert f"| {claim['statement']} |" in tables
    beyond = tables.index("Beyond the study")
    assert tables.index("A Gaussian mixture sampler reads better") > beyond  # the project's own claims apart
    assert tables.index("Dropout 0.1 beats higher dropout rates") < beyond
    assert BEGIN not in tables and END not in tables


def test_tables_round_trip_between_the_markers(results):
    tables = readme_tables(results)
    readme = f"# Title\n\nBefore.\n\n{BEGIN}\nold tables\n{END}\n\nAfter.\n"
    updated = replace_block(readme, tables)
    assert block(updated) == tables
    assert replace_block(updated, tables) == updated  # rendering again changes nothing
    assert updated.startswith("# Title\n\nBefore.\n\n") and updated.endswith(f"{END}\n\nAfter.\n")


def test_the_command_writes_and_checks(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{BEGIN}\n{END}\n")
    assert main([str(FIXTURE), str(readme), "--check"]) == 1
    assert main([str(FIXTURE), str(readme)]) == 0
    assert main([str(FIXTURE), str(readme), "--check"]) == 0
    assert block(readme.read_text()) == readme_tables(json.loads(FIXTURE.read_text()))
    readme.write_text("no markers\n")
    assert main([str(FIXTURE), str(readme)]) == 2
    assert "markers" in capsys.readouterr().err


def test_the_results_page_quotes_the_committed_paper_results():
    """docs/results.md's tables between the markers are docs/results/runs/study/results.json rendered (regenerate
    them with `make timings`, or `python -m multimnist.report.readme docs/results/runs/study/results.json README.md
    docs/results.md --across docs/results/across.json --timings docs/results/timings.json`)."""
    text = RESULTS_PAGE.read_text()
    assert block(text) is not None, "docs/results.md lost its results markers"
    assert block(text) == readme_tables(json.loads(PAPER.read_text()))


def test_the_make_timings_command_finds_both_pages_up_to_date():
    """The command `make timings` runs, with --check: every block of both pages is what the committed JSON makes."""
    args = [str(PAPER), str(README), str(RESULTS_PAGE), "--across", str(MATRIX), "--timings", str(TIMINGS)]
    assert main([*args, "--check"]) == 0


MATRIX = ROOT / "docs" / "results" / "across.json"  # make matrix: `report --across` on docs/results/runs/*


def test_the_committed_matrix_is_what_report_across_makes_of_the_committed_runs(monkeypatch):
    """docs/results/across.json is rebuilt here from the digests it names (one rule set: their claims tables), so
    a digest replaced without rebuilding the matrix, or a matrix edited by hand, fails."""
    from multimnist.report.across import load_runs, with_regularizers

    matrix = json.loads(MATRIX.read_text())
    monkeypatch.chdir(ROOT)  # the matrix names its runs relative to the repository, as make matrix gives them
    runs = [r["run"] for r in matrix["regimes"]]
    assert runs == ["docs/results/runs/study", "docs/results/runs/faint", "docs/results/runs/few-source-digits"]
    assert json.loads(json.dumps(with_regularizers(load_runs(runs)))) == matrix
    # the presets are re-run one at a time, so the matrix may mix code versions and designs while they land: each
    # regime's is its digest's, and the README's claims table names each (a mixed matrix never reads as one run)
    for regime in matrix["regimes"]:
        assert regime["version"] == json.loads((ROOT / regime["run"] / "results.json").read_text())["version"]
    summary = block(README.read_text(), SUMMARY_BEGIN, SUMMARY_END).split("\n", 1)[0]
    assert all(f"multimnist {r['version']}" in summary for r in matrix["regimes"])


def test_the_pages_quote_the_committed_matrix():
    """docs/results.md's claims-by-regime tables and its regularizers' table, and README.md's one claims table, are
    docs/results/across.json rendered, Holm-corrected verdicts included."""
    matrix = json.loads(MATRIX.read_text())
    assert block(README.read_text(), SUMMARY_BEGIN, SUMMARY_END) == claims_summary(matrix)
    text = RESULTS_PAGE.read_text()
    assert block(text, ACROSS_BEGIN, ACROSS_END) == across_tables(matrix)
    assert block(text, REGIMES_BEGIN, REGIMES_END) == regime_table(matrix["regularizers"])
    regimes = [r["name"] for r in matrix["regimes"]]
    assert f"{len(regimes)} paper-profile runs, one per data preset" in text
    rows = matrix["regularizers"]["rows"]
    assert {r["preset"] for r in rows} == set(regimes)
    design = {r["name"]: (r["seeds"], r["max_seeds"] or r["seeds"]) for r in matrix["regimes"]}
    assert all(design[r["preset"]][0] <= r["n"] <= design[r["preset"]][1] for r in rows)  # the seeds it trained
    for row in rows:  # Holm over each regime's regularizers: a verdict needs the corrected p below alpha
        if row["verdict"] in ("helps", "hurts"):
            assert row["p_value"] <= row["p_holm"] < matrix["regularizers"]["alpha"]


def test_the_results_page_prose_on_the_matrix_quotes_it():
    """Every figure in docs/results.md's family-by-family reading of the matrix is one of docs/results/across.json's,
    to the figure's printed precision (percentages also as fractions), so a rerun that moves a number and leaves
    the prose behind fails here."""
    text = RESULTS_PAGE.read_text()
    prose = text[text.index("**What survives a change of data") : text.index("**Which run these numbers come from.**")]
    number = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?")
    known = [abs(float(m.replace(",", ""))) for m in number.findall(MATRIX.read_text())]
    known += [k * 100 for k in known]
    figures = number.findall(prose)
    assert len(figures) > 100  # the paragraph is there and full of figures
    missing = []
    for figure in figures:
        digits = figure.replace(",", "")
        half = 0.5 * 10.0 ** -(len(digits.split(".")[1]) if "." in digits else 0) + 1e-9
        if not any(abs(k - abs(float(digits))) <= half for k in known):
            missing.append(figure)
    assert not missing, f"docs/results.md figures not in across.json: {missing}"



def test_the_claims_summary_is_one_row_per_study_claim_in_family_order():
    """The README's one results table: every claim of the study (none of the project's own) with its verdict in
    each regime and its status, in the families' order, the tally of its statuses, and the legend of every verdict
    and status it shows."""
    matrix = json.loads(MATRIX.read_text())
    summary = claims_summary(matrix)
    rows = [line for line in summary.splitlines() if line.startswith("| ") and not line.startswith("| claim |")]
    study = [c for c in matrix["claims"] if not c["beyond"]]
    assert len(rows) == len(study) and len(study) >= 30
    from multimnist.report.claims import FAMILIES

    order = [k for keys in FAMILIES.values() for k in keys]
    statements = [c["statement"] for c in sorted(study, key=lambda c: order.index(c["key"]))]
    assert [row.split(" | ")[0][2:] for row in rows] == statements
    for claim in matrix["claims"]:
        row = f"| {claim['statement']} | " + " | ".join(claim["verdicts"][r["name"]] or MISSING
                                                        for r in matrix["regimes"])  # a claim an older run lacks
        assert (row + f" | {status_cell(claim)} |" in summary) is (not claim["beyond"]), claim["key"]
    made, tally = re.search(r"claims, each judged in 3 paper-profile runs, one per data preset \((.*?)\), each "
                            r"verdict as its run.s claims table gave it: (.*?)\.", summary).groups()
    for regime in matrix["regimes"]:  # each regime's version and how its seeds were chosen
        assert f"`{regime['name']}`" in made and f"multimnist {regime['version']}, " in made
        assert (f"{regime['seeds']} seeds a side" in made) or ("seeds until decided" in made)
    counted = dict((s.rsplit(" ", 1)[0], int(s.rsplit(" ", 1)[1])) for s in tally.split(", "))
    assert sum(counted.values()) == len(study) and counted["robust"] == sum(c["status"] == "robust" for c in study)
    legend = summary.splitlines()[-1]
    shown = {v or MISSING for c in study for v in c["verdicts"].values()} | {c["status"] for c in study}
    shown |= {REREAD for c in study if c["readings_differ"]}
    assert all(f"*{word}*" in legend for word in shown), shown


def test_the_generation_block_is_each_image_set_then_the_generation_claims():
    def stat(mean, std=0.01):
        return {"mean": mean, "std": std, "n": 3}

    rows = [{"sampler": "class-diffusion", "kind": "sampler", "readable_share": stat(0.868, 0.004),
             "frechet_distance": stat(14.7, 1.1), "as_requested_share": stat(0.817), "code_nn_ratio": stat(1.11)},
            {"sampler": "gmm", "kind": "sampler", "readable_share": stat(0.305), "frechet_distance": stat(40.0)},
            {"sampler": "reconstruction", "kind": "control", "readable_share": stat(0.716),
             "frechet_distance": stat(7.4), "as_requested_share": stat(0.642), "code_nn_ratio": stat(1.0)}]
    claim = {"key": "numbers_on_request", "statement": "Numbers on request", "verdict": "yes", "ours": "81.7 vs 64.2",
             "why": "for it p = 0.001"}
    results = {"preset": "study", "version": "9.9", "profile": {"name": "paper"},
               "claims": [claim, {**claim, "key": "dropout", "statement": "Dropout"}],
               "generation": {"n_per_seed": 1000, "autoencoder_seeds": [0, 1, 2], "readable_threshold": 0.9,
                              "rows": rows}}
    lines = generation_table(results).splitlines()
    assert lines[0].startswith("Data preset `study`, profile `paper`, multimnist 9.9: 1000 images a row on each "
                               "autoencoder seed (0, 1, 2)")
    assert lines[4] == "| `class-diffusion` | 86.8 ± 0.4 | 14.7 ± 1.1 | 81.7 ± 1.0 | 1.11 ± 0.01 |"
    assert lines[5] == "| `gmm` | 30.5 ± 1.0 | 40.0 ± 0.0 | – | – |"  # no conditional figures: not invented
    assert lines[6].startswith("| reconstruction | 71.6 ± 1.0 |")
    assert lines[-1] == "- Numbers on request: **yes**. 81.7 vs 64.2; for it p = 0.001."  # not the study's claims
    assert generation_table({**results, "generation": None}) is None
    older = generation_table({**results, "generation": {**results["generation"], "rows": rows[1:]}})
    assert older.splitlines()[-1].startswith("- This run predates `class-diffusion`")  # a run without the sampler
    assert "predates" not in generation_table(results)


def test_the_readme_generation_block_is_the_study_digest_rendered():
    results = json.loads((ROOT / "docs" / "results" / "runs" / "study" / "results.json").read_text())
    assert block(README.read_text(), GENERATION_BEGIN, GENERATION_END) == generation_table(results)


def test_the_timings_table_renders_each_command_median_range_and_machine():
    timings = {"note": "From recorded runs.", "rows": [
        {"command": "make reproduce", "what": "paper", "n": 3, "median_seconds": 7317.3, "min_seconds": 5090.2,
         "max_seconds": 8041.1, "machine": "2-core CPU"},
        {"command": "make reproduce PROFILE=quick", "what": "quick", "n": 1, "median_seconds": 83.0,
         "min_seconds": 83.0, "max_seconds": 83.0, "machine": "4-core CPU"}]}
    table = timings_table(timings).splitlines()
    assert table[2] == "| `make reproduce` | paper | 122.0 min | 3 (84.8 min to 134.0 min) | 2-core CPU |"
    assert table[3] == "| `make reproduce PROFILE=quick` | quick | 83 s | 1 | 4-core CPU |"
    assert table[-1] == "From recorded runs."


def test_the_readme_timings_are_the_committed_record_of_the_committed_runs():
    """docs/results/timings.json is what benchmarks/timings.py makes of the committed digests' steps.json (and
    the records it keeps), and the README's table is its rendering: a figure typed by hand fails."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("timings", ROOT / "benchmarks" / "timings.py")
    timings = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(timings)
    committed = json.loads(TIMINGS.read_text())
    assert json.loads(json.dumps(timings.build(committed["records"]))) == committed
    paper = next(r for r in committed["rows"] if r["command"] == "make reproduce")
    steps = [sum(map(step_seconds, json.loads((ROOT / source).read_text()).values())) for source in
             paper["sources"]]
    assert paper["n"] == 3 and abs(paper["median_seconds"] - sorted(steps)[1]) < 0.1
    assert block(README.read_text(), TIMINGS_BEGIN, TIMINGS_END) == timings_table(committed)
    assert f"\nJOBS ?= {timings.JOBS}\n" in (ROOT / "Makefile").read_text()  # the rows count the Makefile's runs


def test_timings_records_a_finished_run_and_refuses_anything_else(tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("timings", ROOT / "benchmarks" / "timings.py")
    timings = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(timings)
    out = tmp_path / "timings.json"
    assert timings.main(["--add", str(tmp_path), "--out", str(out)]) == 2
    assert "holds no steps.json" in capsys.readouterr().err and not out.exists()
    run = tmp_path / "quick"
    run.mkdir()
    (run / "steps.json").write_text(json.dumps({"data": {"hash": "a", "seconds": 1.5}, "report": {"seconds": 60}}))
    (run / "profile.json").write_text(json.dumps({"profile": {"name": "quick", "preset": None}, "jobs": 2,
                                                  "multimnist_version": "0.3.0"}))
    assert timings.main(["--add", str(run), "--out", str(out)]) == 0
    assert timings.main(["--out", str(out), "--check"]) == 0
    written = json.loads(out.read_text())
    quick = next(r for r in written["rows"] if r["command"] == "make reproduce PROFILE=quick")
    assert quick["n"] == 1 and quick["median_seconds"] == 61.5 and "-core CPU" in quick["machine"]
    assert written["records"][0]["seconds"] == 61.5

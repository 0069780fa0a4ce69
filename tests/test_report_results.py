"""The README's results tables: rendered from a results.json, round-tripped between the README's markers, and
(once the paper run's results.json is committed) equal to what the README holds."""

from __future__ import annotations

import json
import re
from pathlib import Path

from multimnist.report.readme import (
    ACROSS_BEGIN,
    ACROSS_END,
    BEGIN,
    END,
    REGIMES_BEGIN,
    REGIMES_END,
    across_tables,
    block,
    main,
    readme_tables,
    regime_table,
    replace_block,
)

import pytest

ROOT = Path(__file__).parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "results.json"  # write_report on test_claims.make_study_folder
PAPER = ROOT / "docs" / "results" / "runs" / "study" / "results.json"


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


def test_the_readme_quotes_the_committed_paper_results():
    """README.md's tables between the markers are docs/results/runs/study/results.json rendered (regenerate them with
    `python -m multimnist.report.readme docs/results/runs/study/results.json README.md`)."""
    text = (ROOT / "README.md").read_text()
    assert block(text) is not None, "README.md lost its results markers"
    assert block(text) == readme_tables(json.loads(PAPER.read_text()))


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
    assert {r["version"] for r in matrix["regimes"]} == {"0.3.0"}  # one code version across the matrix


def test_the_readme_quotes_the_committed_matrix():
    """README.md's claims-by-regime tables and its regularizers' table are docs/results/across.json rendered
    (`python -m multimnist.report.readme docs/results/runs/study/results.json README.md --across
    docs/results/across.json`), Holm-corrected verdicts included."""
    matrix = json.loads(MATRIX.read_text())
    text = (ROOT / "README.md").read_text()
    assert block(text, ACROSS_BEGIN, ACROSS_END) == across_tables(matrix)
    assert block(text, REGIMES_BEGIN, REGIMES_END) == regime_table(matrix["regularizers"])
    regimes = [r["name"] for r in matrix["regimes"]]
    assert f"{len(regimes)} paper-profile runs, one per data preset" in text
    rows = matrix["regularizers"]["rows"]
    assert {r["preset"] for r in rows} == set(regimes) and all(r["n"] == 3 for r in rows)
    for row in rows:  # Holm over each regime's regularizers: a verdict needs the corrected p below alpha
        if row["verdict"] in ("helps", "hurts"):
            assert row["p_value"] <= row["p_holm"] < matrix["regularizers"]["alpha"]


def test_the_readme_prose_on_the_matrix_quotes_it():
    """Every figure in the README's family-by-family reading of the matrix is one of docs/results/across.json's,
    to the figure's printed precision (percentages also as fractions), so a rerun that moves a number and leaves
    the prose behind fails here."""
    text = (ROOT / "README.md").read_text()
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
    assert not missing, f"README figures not in across.json: {missing}"


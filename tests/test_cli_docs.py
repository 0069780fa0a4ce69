"""`multimnist docs`: the documents the help refers to, printed from the installed package."""

from __future__ import annotations

from pathlib import Path

from multimnist.cli import main

DOCS = Path(__file__).parents[1] / "docs"


def test_docs_prints_the_repositorys_documents(capsys):
    for name in ("calibration", "scaling", "challenger"):
        assert main(["docs", name]) == 0
        assert capsys.readouterr().out == (DOCS / f"{name}.md").read_text()


def test_docs_lists_them_and_refuses_an_unknown_name(capsys):
    assert main(["docs"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "calibration  Calibrating the generator"
    assert main(["docs", "calibrate"]) == 2
    assert capsys.readouterr().err == "multimnist: error: no document named 'calibrate'; known: calibration, " \
                                      "challenger, scaling\n"

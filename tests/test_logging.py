"""How the command talks: -q/-v through logging, help for every option, `python -m multimnist`, and logs of
redirected runs free of terminal control characters."""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys

from multimnist.cli import build_parser, main

import pytest

MAKE = ["data", "make", "--plan", "balanced", "--train-size", "100"]


def _parsers(parser: argparse.ArgumentParser, path=("multimnist",)):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


def test_every_command_and_option_has_help():
    commands = list(_parsers(build_parser()))
    assert len(commands) > 20  # data make, train classifier, sweep depth, ...
    for path, parser in commands:
        assert parser.description, " ".join(path)
        for action in parser._actions:
            assert action.help, f"{' '.join(path)} {'/'.join(action.option_strings) or action.dest} has no help"


def test_help_names_no_file_that_a_pip_install_lacks():
    for path, parser in _parsers(build_parser()):
        for action in parser._actions:
            assert "docs/" not in (action.help or ""), f"{' '.join(path)} {action.option_strings} points to docs/"
    data = dict(_parsers(build_parser()))
    assert "multimnist docs calibration" in " ".join(data[("multimnist", "data", "make")].format_help().split())
    assert "needs the [report] extra" in data[("multimnist", "data", "inspect")].description
    assert "needs the [report] extra" in data[("multimnist", "report")].description


def test_a_misspelled_option_prints_its_commands_usage(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["data", "make", "--out", str(tmp_path / "d"), "--seeds", "1"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.startswith("usage: multimnist data make [-h]")
    assert err.endswith("multimnist data make: error: unrecognized arguments: --seeds 1 (did you mean --seed?)\n")
    assert not (tmp_path / "d").exists()


def test_python_dash_m_multimnist():
    for module in ("multimnist", "multimnist.cli"):
        done = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "reproduce" in done.stdout and "-q, --quiet" in done.stdout and "exit codes" in done.stdout


@pytest.mark.parametrize("flags, progress", [([], True), (["-q"], False), (["-v"], True)])
def test_quiet_and_verbose_set_the_logging_level(tmp_path, capsys, flags, progress):
    for i, argv in enumerate(([*flags, *MAKE], [*MAKE, *flags])):  # before or after the command
        assert main([*argv, "--out", str(tmp_path / f"d{i}")]) == 0
        out, err = capsys.readouterr()
        assert out.startswith("wrote ")  # the result goes to stdout whatever the level
        assert ("made 100 training and 50 test images" in err) == progress, err


def test_quiet_still_shows_errors(tmp_path, capsys):
    assert main(["-qq", "train", "classifier", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "r")]) == 2
    assert capsys.readouterr().err == f"multimnist: error: --data: dataset not found: {tmp_path / 'none'}\n"


# slow: its subject is a real process whose output goes to a file, not a terminal: two `python -m multimnist`
# starts (Keras/JAX imports, ~5 s each) that each train a network
@pytest.mark.slow
@pytest.mark.parametrize("flags", [[], ["-q"]], ids=["default", "quiet"])
def test_a_redirected_training_log_has_no_terminal_control_characters(small_dataset_dir, tmp_path, flags):
    log = tmp_path / "log"
    with open(log, "wb") as f:
        done = subprocess.run([sys.executable, "-m", "multimnist", *flags, "train", "classifier", "--data",
                               str(small_dataset_dir), "--out", str(tmp_path / "r"), "--epochs", "2"],
                              stdout=f, stderr=subprocess.STDOUT, timeout=300)
    text = log.read_text()
    assert done.returncode == 0, text
    for char in ("\x1b", "\b", "\r"):
        assert char not in text, f"{char!r} in the log:\n{text}"
    assert "test accuracy" in text.splitlines()[-1]  # the result line, last
    if flags:
        assert len(text.splitlines()) == 1, text  # -q: only the result
    else:
        assert "epoch 1/2" in text and "epoch 2/2" in text  # one line per epoch, not a bar per step


def test_main_leaves_logging_as_it_found_it(tmp_path, capsys):
    logger = logging.getLogger("multimnist")
    before = (logger.level, list(logger.handlers))
    assert main(["-q", *MAKE, "--out", str(tmp_path / "d")]) == 0
    assert main([*MAKE, "--out", str(tmp_path / "d"), "--seed", "1"]) == 2  # an error on the way out, too
    assert (logger.level, list(logger.handlers)) == before

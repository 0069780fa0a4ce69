"""`multimnist completion bash|zsh`: the script completes commands, options and fixed values in a real bash."""

from __future__ import annotations

import shutil
import subprocess

from multimnist.cli import build_parser, main
from multimnist.cli.completion import completion_script

import pytest

TYPED = """
source "$1"
complete_line() {
    COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    _multimnist multimnist "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    echo "${COMPREPLY[*]}"
}
complete_line multimnist da
complete_line multimnist data ""
complete_line multimnist -q data make --se
complete_line multimnist data make --blend ""
complete_line multimnist data export --data d --format p
complete_line multimnist data make --out ""
complete_line multimnist reproduce --profile ""
complete_line multimnist reproduce --preset f
complete_line multimnist data make --preset ""
complete_line multimnist train classifier --config reg
complete -p multimnist
"""


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash here")
def test_the_bash_script_completes_commands_options_and_values(tmp_path, capsys):
    assert main(["completion", "bash"]) == 0
    (tmp_path / "multimnist.bash").write_text(capsys.readouterr().out)
    done = subprocess.run(["bash", "-c", TYPED, "bash", str(tmp_path / "multimnist.bash")], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.splitlines() == [
        "data",
        "-h --help make inspect download export",
        "--seed",
        "max sum alpha",
        "parquet",
        "",  # --out takes a file name: bash's own completion (-o default)
        "quick paper",  # and a YAML file: names that match none of these fall back to file names
        "faint few-source-digits",
        "study faint few-source-digits",
        "regularized",
        "complete -o default -F _multimnist multimnist",
    ]


def test_the_zsh_script_is_the_bash_one_through_bashcompinit():
    bash, zsh = (completion_script(build_parser(), shell) for shell in ("bash", "zsh"))
    assert zsh.endswith(bash) and "bashcompinit && bashcompinit" in zsh
    if shutil.which("zsh"):
        assert subprocess.run(["zsh", "-n"], input=zsh, text=True).returncode == 0


def test_the_profile_names_offered_are_the_profiles():
    from multimnist.cli.study import PROFILE_NAMES
    from multimnist.experiments.study import PROFILES

    assert sorted(PROFILE_NAMES) == sorted(PROFILES)

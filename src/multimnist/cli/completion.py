"""`multimnist completion bash|zsh`: a shell completion script, generated from the command's own parser.

    eval "$(multimnist completion bash)"     # in ~/.bashrc
    eval "$(multimnist completion zsh)"      # in ~/.zshrc (zsh runs the bash script through bashcompinit)

It completes commands, options and the values of options with a fixed list; any other value falls back to file
names. Nothing extra to install: the script is plain shell, written from the parser so it never drifts from it.
"""

from __future__ import annotations

import argparse

from multimnist.cli.options import command
from multimnist.cli.reference import commands

SHELLS = ("bash", "zsh")

BASH = """# bash completion for multimnist, written by `multimnist completion bash`
_multimnist_words() {{  # the subcommands and options after a command path
    case "$1" in
{words}
    esac
}}
_multimnist_values() {{  # the values of an option (none listed: file names); not an option that takes one: fail
    case "$1" in
{values}
        *) return 1;;
    esac
}}
_multimnist() {{
    local cur="$2" prev="$3" path="" word values
    local -a typed=("${{COMP_WORDS[@]}}")
    for word in "${{typed[@]:1:COMP_CWORD-1}}"; do
        case " $(_multimnist_words "$path") " in
            *" $word "*) [[ $word == -* ]] || path="${{path:+$path }}$word";;
        esac
    done
    if values="$(_multimnist_values "${{path:+$path }}$prev")"; then
        COMPREPLY=($(compgen -W "$values" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$(_multimnist_words "$path")" -- "$cur"))
    fi
}}
complete -o default -F _multimnist multimnist
"""

ZSH = """# zsh completion for multimnist, written by `multimnist completion zsh`: the bash script through bashcompinit
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
"""


def add_commands(subparsers) -> None:
    completion = command(subparsers, "completion", "print a shell completion script: eval \"$(multimnist "
                                                   "completion bash)\" in ~/.bashrc (zsh: ~/.zshrc)")
    completion.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    completion.set_defaults(run=_completion)


def completion_script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script of `parser` (the whole `multimnist` command) for `shell`."""
    words, values = [], []
    for path, sub in commands(parser):
        offered = []
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                offered += list(action.choices)
            elif action.option_strings:
                offered += action.option_strings
                if action.nargs != 0:  # takes a value: its choices, the names it offers (options.offer), or files
                    listed = " ".join(map(str, action.choices or getattr(action, "offered", ())))
                    keys = "|".join(f'"{" ".join((*path, o))}"' for o in action.option_strings)
                    values.append(f"        {keys}) echo \"{listed}\";;")
            elif action.choices:
                offered += list(map(str, action.choices))
        words.append(f'        "{" ".join(path)}") echo "{" ".join(offered)}";;')
    script = BASH.format(words="\n".join(words), values="\n".join(values))
    return script if shell == "bash" else ZSH + script


def _completion(args) -> int:
    print(completion_script(args.parser, args.shell), end="")
    return 0

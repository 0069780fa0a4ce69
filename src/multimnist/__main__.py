"""`python -m multimnist`: the same as the `multimnist` command."""

from multimnist.cli import main_cli

main_cli()

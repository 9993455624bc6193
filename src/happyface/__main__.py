"""`python -m happyface` is the `happyface` command."""

from .cli.main import run

run()

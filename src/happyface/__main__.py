"""`python -m happyface` is the `happyface` command."""

from .cli import run

run()

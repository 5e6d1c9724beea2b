"""The click commands and the terminal views; `main` is the console script."""

from dnetlab.cli.commands import main

__all__ = ["main"]

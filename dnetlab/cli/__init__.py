"""The click commands and the terminal views; `main` is the console script."""

import dnetlab.cli.inventory_cmd  # noqa: F401  (adds `inventory` and shell completion)
from dnetlab.cli.commands import main

__all__ = ["main"]

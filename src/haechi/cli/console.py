"""The consoles every command prints through.

``soft_wrap`` keeps each message on one line when output goes to a pipe or a file, so a
script (or a court clerk with grep) finds a hash or a path whole, never split at column 80.
"""

from __future__ import annotations

from rich.console import Console

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

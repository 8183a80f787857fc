"""The consoles every command prints through.

``soft_wrap`` keeps each message on one line when output goes to a pipe or a file, so a
script (or a court clerk with grep) finds a hash or a path whole, never split at column 80.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console

from haechi.domain.display import visible


class SafeConsole(Console):
    """Names, titles and file names from the sources reach the terminal with their
    invisible and reordering characters shown as tokens (``⟨RLO⟩``): a terminal applies
    bidi overrides too, and ``photo\u202egpj.exe`` must not read as "photoexe.jpg"."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        super().print(*(visible(o) if isinstance(o, str) else o for o in objects), **kwargs)


out = SafeConsole(soft_wrap=True)
err = SafeConsole(stderr=True, soft_wrap=True)

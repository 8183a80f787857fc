"""What runs inside an analysis worker process: open a vault file once, run analyzers on it.

Built from picklable arguments only (the vault's folder and key, the scratch folder, the
analyzer settings), because workers are spawned, not forked.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from haechi.analyze.base import Analyzer
from haechi.domain.analysis import AnalysisInput, AnalysisResult, MediaKind
from haechi.store.vault import Vault

# Pillow's default bomb guard only *warns* below twice its limit; evidence from strangers
# gets a hard limit: 64 megapixels is above any camera or Telegram photo (<= 2560 px).
MAX_IMAGE_PIXELS = 64_000_000


def harden_decoders() -> None:
    """Make decompression bombs an error in this process (called once per worker)."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a core dependency
        return
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    warnings.simplefilter("error", Image.DecompressionBombWarning)


@dataclass
class _Opened:
    item: AnalysisInput
    stack: contextlib.ExitStack


class AnalysisWorker:
    def __init__(
        self,
        vault_root: str,
        vault_key: bytes | None,
        scratch: str,
        config: dict[str, dict[str, Any]],
        names: list[str],
    ) -> None:
        from haechi.analyze.registry import build

        harden_decoders()
        self.vault = Vault(Path(vault_root), key=vault_key, encrypt=False)
        self.scratch = Path(scratch)
        analyzers, _ = build(config, only=names)
        self.analyzers: dict[str, Analyzer] = {a.name: a for a in analyzers}

    def open(self, key: str, payload: dict[str, Any]) -> _Opened:
        stack = contextlib.ExitStack()
        try:
            path = stack.enter_context(self.vault.local_plaintext(key, self.scratch))
        except BaseException:
            stack.close()
            raise
        item = AnalysisInput(
            sha256=key,
            path=path,
            size=payload["size"],
            kind=MediaKind(payload["kind"]),
            mime=payload.get("mime"),
            hints=payload.get("hints") or {},
        )
        return _Opened(item, stack)

    def setup(self, step: str) -> None:
        self.analyzers[step].setup()

    def run(self, step: str, opened: _Opened) -> AnalysisResult:
        result = self.analyzers[step].analyze(opened.item)
        if not isinstance(result, AnalysisResult):
            raise TypeError(f"{step}.analyze returned {type(result).__name__}")
        return result

    def close(self, opened: _Opened) -> None:
        opened.stack.close()

"""Redaction of victims' identifiers in everything haechi writes for other eyes.

Exports name a victim by label (``V1``). Free text that reaches an export (a message's
text, a source's folder name) is searched for every identifying string recorded for the
case's victims (name, contact, other identifiers) and each occurrence is replaced by the
victim's label. Originals in an evidence package are never changed: they are the evidence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

MIN_LENGTH = 2  # a one-character "identifier" would blank out ordinary text


class Redactor:
    def __init__(self, secrets: Sequence[tuple[str, str]], *, enabled: bool = True) -> None:
        self.enabled = enabled
        pairs = sorted(
            (
                (label, value.strip())
                for label, value in secrets
                if len(value.strip()) >= MIN_LENGTH
            ),
            key=lambda p: -len(p[1]),  # longest first: "김민지" before "민지"
        )
        self.labels = {value.casefold(): label for label, value in pairs}
        self.pattern = (
            re.compile("|".join(re.escape(v) for _, v in pairs), re.IGNORECASE) if pairs else None
        )

    def __call__(self, text: str | None) -> str:
        if text is None:
            return ""
        if not self.enabled or self.pattern is None:
            return text
        return self.pattern.sub(
            lambda m: f"[{self.labels.get(m.group(0).casefold(), 'victim')}]", text
        )

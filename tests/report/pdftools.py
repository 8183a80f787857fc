"""Read a PDF's embedded font names (no PDF library is installed: inflate the streams)."""

from __future__ import annotations

import re
import zlib


def font_names(data: bytes) -> set[str]:
    names = set(re.findall(rb"/FontName\s*/([^\s/\]>]+)", data))
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            names |= set(re.findall(rb"/FontName\s*/([^\s/\]>]+)", zlib.decompress(m.group(1))))
        except zlib.error:
            continue
    return {n.decode("latin-1") for n in names}

"""``provenance``: what a file itself says about how it was made, with the raw evidence.

Findings, each one ``provenance`` signal (value, searchable):

* ``c2pa`` — a C2PA manifest (:mod:`.c2pa_read`): validation state and failure codes,
  claim generator, signer, actions, ``digitalSourceType``, ingredients, manifest JSON;
* ``iptc_dst`` — IPTC ``DigitalSourceType`` in XMP (``trainedAlgorithmicMedia``, ...);
* ``exif`` — EXIF Software, Make, Model (and whether Software names a generator);
* ``generator:<tool>`` — generation parameters (:mod:`.generators`): prompt, models,
  seed, sampler, from text chunks, EXIF UserComment or the alpha channel;
* ``watermark:<mark>`` — a Stable Diffusion invisible watermark (:mod:`.watermark`).

Every finding's ``data`` holds ``evidence``: where in the file it was found (container,
block, byte offset and length, SHA-256 of the block) and the raw text or bytes (bounded),
so a report can quote it and anyone can cut it out of the original again.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from haechi.analyze.base import Analyzer
from haechi.analyze.stills import MAX_PIXELS, to_rgb
from haechi.analyze.synthetic import c2pa_read, generators, tags, watermark
from haechi.analyze.synthetic.containers import Block, Metadata, read_metadata
from haechi.domain.analysis import AnalysisInput, AnalysisResult, MediaKind, Signal

RAW_BYTES = 64 << 10  # bytes of a binary block kept (base64) in a finding


@dataclass(frozen=True)
class ProvenanceSettings:
    trust_anchors: str = ""  # PEM file of C2PA signer roots this agency trusts
    watermarks: bool = True  # decode Stable Diffusion invisible watermarks
    stealth: bool = True  # read parameters hidden in the alpha channel's low bits
    raw_text_limit: int = 256 << 10  # characters of a text block kept as raw evidence


def _raw_text(block: Block, limit: int) -> dict[str, Any]:
    text = block.text()
    out: dict[str, Any] = {**block.locator(), "text": text[:limit]}
    if len(text) > limit:
        out["text_truncated_at"] = limit
    return out


def _raw_bytes(block: Block) -> dict[str, Any]:
    out: dict[str, Any] = dict(block.locator())
    if block.length <= RAW_BYTES:
        out["base64"] = base64.b64encode(block.data).decode()
    return out


class ProvenanceAnalyzer(Analyzer):
    name: ClassVar[str] = "provenance"
    version: ClassVar[str] = "1"
    media_kinds = frozenset({MediaKind.IMAGE, MediaKind.ANIMATION, MediaKind.VIDEO})
    description = (
        "C2PA, IPTC DigitalSourceType, EXIF, AI-generator parameters and SD watermarks, "
        "with their raw evidence."
    )
    settings_cls: ClassVar[type] = ProvenanceSettings
    time_limit: ClassVar[float] = 60.0

    settings: ProvenanceSettings

    def __init__(self, settings: Any = None) -> None:
        super().__init__(settings)
        self._trust = c2pa_read.trust_pem(self.settings.trust_anchors)

    def analyze(self, item: AnalysisInput) -> AnalysisResult:
        meta = read_metadata(item.path)
        signals: list[Signal] = []
        warnings = list(meta.problems)
        signals += self._c2pa(item, meta, warnings)
        signals += self._xmp(meta)
        exif_signal, exif_fields = self._exif(item, meta, warnings)
        signals += exif_signal
        signals += self._generators(meta, exif_fields)
        if item.kind == MediaKind.IMAGE:
            signals += self._pixels(item, warnings)
        return AnalysisResult(signals=signals, warnings=warnings)

    # -- C2PA --------------------------------------------------------------------------------
    def _c2pa(self, item: AnalysisInput, meta: Metadata, warnings: list[str]) -> list[Signal]:
        finding = c2pa_read.read_c2pa(item.path, item.mime, self._trust)
        if finding is None:
            return []
        blocks = meta.of("c2pa")
        if finding.error and not finding.remote_url and not blocks and meta.container:
            # c2pa-rs failed on a file with no C2PA block at all (a truncated JPEG, ...):
            # that is damage, not a manifest, and is said as such.
            warnings.append(f"C2PA reader: {finding.error}")
            return []
        data = finding.as_dict()
        data["evidence"] = {
            "blocks": [b.locator() for b in blocks],
            "manifest_json": data.pop("raw", None),
        }
        return [Signal("provenance", "c2pa", None, data)]

    # -- XMP ---------------------------------------------------------------------------------
    def _xmp(self, meta: Metadata) -> list[Signal]:
        out = []
        for block in meta.of("xmp"):
            fields = tags.parse_xmp(block.text())
            if not fields.digital_source_types:
                continue
            terms = [tags.dst_term(v) for v in fields.digital_source_types]
            out.append(
                Signal(
                    "provenance",
                    "iptc_dst",
                    None,
                    {
                        "digital_source_types": terms,
                        "classes": sorted({tags.dst_class(t) for t in terms}),
                        "uris": fields.digital_source_types,
                        "creator_tool": fields.creator_tool,
                        "evidence": _raw_text(block, self.settings.raw_text_limit),
                    },
                )
            )
        return out

    # -- EXIF --------------------------------------------------------------------------------
    def _exif(
        self, item: AnalysisInput, meta: Metadata, warnings: list[str]
    ) -> tuple[list[Signal], tags.ExifFields | None]:
        blocks = meta.of("exif")
        fields: tags.ExifFields | None
        block: Block | None = None
        if blocks:
            block = blocks[0]
            fields = tags.parse_exif(blocks[0].data)
        elif meta.container is None and item.kind == MediaKind.IMAGE:
            fields = self._pillow_exif(item)
        else:
            return [], None
        if fields is None:
            return [], None
        if fields.problem:
            warnings.append(fields.problem)
            return [], fields
        present = fields.present()
        if not any(k in present for k in ("software", "make", "model")):
            return [], fields
        software = fields.software or ""
        data: dict[str, Any] = {
            **present,
            "software_names_generator": bool(tags.GENERATOR_SOFTWARE.search(software)),
            "evidence": _raw_bytes(block) if block else {"container": "pillow"},
        }
        return [Signal("provenance", "exif", None, data)], fields

    @staticmethod
    def _pillow_exif(item: AnalysisInput) -> tags.ExifFields | None:
        """EXIF of containers walked by Pillow only (TIFF, HEIC, AVIF)."""
        from PIL import Image

        try:
            with Image.open(item.path) as im:
                raw = im.getexif().tobytes()
        except Exception:  # unreadable: mediainfo reports it; no EXIF finding
            return None
        return tags.parse_exif(raw) if len(raw) > 8 else None

    # -- generator parameters ----------------------------------------------------------------
    def _generators(self, meta: Metadata, exif: tags.ExifFields | None) -> list[Signal]:
        texts = meta.texts()
        found = [
            (f, [texts[k] for k in f.keys if k in texts])
            for f in generators.from_texts({k: b.text() for k, b in texts.items()})
        ]
        if exif is not None:
            exif_blocks = meta.of("exif")
            for f in generators.from_exif(exif.user_comment, exif.make, exif.model):
                found.append((f, exif_blocks[:1]))
        for block in meta.of("comment"):  # some tools put A1111 parameters in a JPEG COM
            parsed = generators.parse_a1111(block.text(), ["JPEG COM"])
            if parsed:
                found.append((parsed, [block]))
        return [
            Signal(
                "provenance",
                f"generator:{f.tool}",
                None,
                {
                    **f.as_dict(),
                    "evidence": [
                        _raw_text(b, self.settings.raw_text_limit)
                        if b.kind != "exif"
                        else _raw_bytes(b)
                        for b in blocks
                    ],
                },
            )
            for f, blocks in found
        ]

    # -- pixels: stealth parameters and watermarks -------------------------------------------
    def _pixels(self, item: AnalysisInput, warnings: list[str]) -> list[Signal]:
        st = self.settings
        if not (st.stealth or st.watermarks):
            return []
        from PIL import Image

        try:
            with Image.open(item.path) as im:
                if im.width * im.height > MAX_PIXELS:
                    warnings.append("picture too large for the watermark check")
                    return []
                im.load()
                rgba = (
                    np.asarray(im.convert("RGBA")) if st.stealth and "A" in im.getbands() else None
                )
                rgb = np.asarray(to_rgb(im)) if st.watermarks else None
        except Exception as exc:  # damaged pixels: metadata findings above still stand
            warnings.append(f"pixels not readable for the watermark check: {exc}")
            return []
        out = []
        if rgba is not None:
            text = generators.stealth_text(rgba)
            if text:
                out.append(self._stealth(text))
        if rgb is not None:
            out += self._watermarks(rgb, warnings)
        return out

    def _stealth(self, text: str) -> Signal:
        keys = ["alpha-channel LSB (stealth pnginfo)"]
        parsed = generators.from_texts({"parameters": text}) if "Steps:" in text else []
        if not parsed and text.lstrip().startswith("{"):
            parsed = [generators.parse_novelai({"Comment": text})]
        finding = (
            parsed[0]
            if parsed
            else generators.GeneratorFinding("unknown (stealth)", keys, unparsed=True)
        )
        finding.keys = keys
        limit = self.settings.raw_text_limit
        return Signal(
            "provenance",
            f"generator:{finding.tool}",
            None,
            {
                **finding.as_dict(),
                "evidence": [{"container": "pixels", "block": "alpha LSB", "text": text[:limit]}],
            },
        )

    @staticmethod
    def _watermarks(rgb: np.ndarray, warnings: list[str]) -> list[Signal]:
        try:
            results, _ = watermark.check(rgb)
        except watermark.WatermarkUnavailable as exc:
            warnings.append(f"watermark check unavailable: {exc}")
            return []
        return [
            Signal(
                "provenance",
                f"watermark:{r.mark}",
                round(r.bits_matched / r.bits_total, 4),
                {**r.as_dict(), "evidence": {"container": "pixels", "method": "dwtDct"}},
            )
            for r in results
            if r.detected
        ]

"""The provenance analyzer on files these tests make (C2PA signed with a local chain, PNG
text chunks written with Pillow, SD watermarks embedded with the library's own encoder)
and on ../shared/data/provenance where present; bad input gives findings or warnings,
never an exception or a hang."""

from __future__ import annotations

import csv
import gzip
import io
import json
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin
from skimage import data
from tests.conftest import SHARED_DATA

from haechi.analyze.sniff import sniff
from haechi.analyze.synthetic import containers, watermark
from haechi.analyze.synthetic.provenance import ProvenanceAnalyzer, ProvenanceSettings
from haechi.demo.c2pa_demo import make_signer, sign_jpeg
from haechi.domain.analysis import AnalysisInput, AnalysisResult, Signal

PROVENANCE = SHARED_DATA / "provenance"


def run(path: Path, settings: ProvenanceSettings | None = None) -> AnalysisResult:
    kind, mime = sniff(path.read_bytes()[:65536])
    return ProvenanceAnalyzer(settings).analyze(
        AnalysisInput("0" * 64, path, path.stat().st_size, kind, mime)
    )


def by_value(result: AnalysisResult) -> dict[str, Signal]:
    return {s.value or "": s for s in result.signals}


def jpeg(arr: np.ndarray, quality: int = 92) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@pytest.fixture(scope="module")
def signer():  # type: ignore[no-untyped-def]
    return make_signer()


def test_c2pa_signed_here_is_valid_and_declares_the_source_type(signer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "signed.jpg"
    path.write_bytes(sign_jpeg(jpeg(data.rocket()), signer, title="signed.jpg"))
    c2pa = by_value(run(path))["c2pa"].data
    assert c2pa["validation_state"] == "Valid" and not c2pa["broken"] and not c2pa["trusted"]
    assert c2pa["digital_source_types"] == ["trainedAlgorithmicMedia"]
    assert c2pa["actions"][0]["action"] == "c2pa.created"
    assert c2pa["signer"]["common_name"] == "haechi demo generator"
    assert c2pa["claim_generator"].startswith("haechi demo")
    assert json.loads(c2pa["evidence"]["manifest_json"])["active_manifest"]
    assert c2pa["evidence"]["blocks"][0]["block"] == "c2pa"
    # With the demo root as a trust anchor the signer is trusted.
    anchors = tmp_path / "anchors.pem"
    anchors.write_bytes(signer.root_pem)
    trusted = by_value(run(path, ProvenanceSettings(trust_anchors=str(anchors))))["c2pa"].data
    assert trusted["trusted"] and trusted["validation_state"] == "Trusted"
    from haechi.domain import UsageError

    with pytest.raises(UsageError, match="trust_anchors"):
        ProvenanceAnalyzer(ProvenanceSettings(trust_anchors=str(tmp_path / "missing.pem")))


def test_c2pa_tampered_after_signing_is_reported_broken(signer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    signed = bytearray(sign_jpeg(jpeg(data.rocket()), signer))
    signed[-200] ^= 0xFF  # one byte of image data, after the manifest
    path = tmp_path / "tampered.jpg"
    path.write_bytes(bytes(signed))
    c2pa = by_value(run(path))["c2pa"].data
    assert c2pa["broken"] and c2pa["validation_state"] == "Invalid"
    assert "assertion.dataHash.mismatch" in c2pa["failures"]


def test_malformed_c2pa_box_is_a_finding_not_a_crash(signer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    signed = bytearray(sign_jpeg(jpeg(data.rocket()), signer))
    meta = containers.read_metadata(_write(tmp_path / "s.jpg", bytes(signed)))
    app11 = meta.of("c2pa")[0]
    start = app11.offset + 40
    signed[start : start + 400] = bytes(400)  # zero the JUMBF box headers
    path = _write(tmp_path / "broken.jpg", bytes(signed))
    c2pa = by_value(run(path))["c2pa"].data
    assert c2pa["broken"]


def _write(path: Path, data_: bytes) -> Path:
    path.write_bytes(data_)
    return path


def _png(path: Path, texts: dict[str, str], arr: np.ndarray | None = None) -> Path:
    info = PngImagePlugin.PngInfo()
    for k, v in texts.items():
        info.add_text(k, v)
    Image.fromarray(arr if arr is not None else data.coffee()[:64, :64]).save(path, pnginfo=info)
    return path


def test_generator_parameters_in_png_text_chunks(tmp_path: Path) -> None:
    a1111 = (
        "a red bicycle\nNegative prompt: blurry\nSteps: 20, Sampler: DPM++ 2M Karras, "
        "CFG scale: 7, Seed: 42, Size: 512x512, Model hash: abc, Model: dreamshaper_8, "
        'Lora hashes: "x: 1, y: 2"'
    )
    got = by_value(run(_png(tmp_path / "a.png", {"parameters": a1111})))["generator:AUTOMATIC1111"]
    d = got.data
    assert (d["prompt"], d["negative_prompt"], d["seed"], d["sampler"]) == (
        "a red bicycle",
        "blurry",
        "42",
        "DPM++ 2M Karras",
    )
    assert d["models"] == ["dreamshaper_8"] and d["parameters"]["Lora hashes"] == "x: 1, y: 2"
    ev = d["evidence"][0]
    assert ev["key"] == "parameters" and ev["text"] == a1111 and ev["length"] > len(a1111)
    raw = (tmp_path / "a.png").read_bytes()[ev["offset"] : ev["offset"] + ev["length"]]
    assert raw == b"parameters\x00" + a1111.encode("latin-1")  # the locator finds the bytes

    graph = {
        "3": {
            "class_type": "KSampler",
            "inputs": {
                "seed": 7,
                "sampler_name": "euler",
                "positive": ["6", 0],
                "negative": ["7", 0],
                "steps": 20,
            },
        },
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd_xl.safetensors"}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a lighthouse"}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "fog"}},
    }
    comfy = by_value(run(_png(tmp_path / "c.png", {"prompt": json.dumps(graph)})))
    c = comfy["generator:ComfyUI"].data
    assert (c["prompt"], c["negative_prompt"], c["seed"], c["sampler"], c["models"]) == (
        "a lighthouse",
        "fog",
        "7",
        "euler",
        ["sd_xl.safetensors"],
    )

    nai = by_value(
        run(
            _png(
                tmp_path / "n.png",
                {
                    "Software": "NovelAI",
                    "Source": "NovelAI Diffusion V3 7BCCAA2C",
                    "Description": "a castle",
                    "Comment": json.dumps({"seed": 5, "sampler": "k_euler", "uc": "x"}),
                },
            )
        )
    )["generator:NovelAI"].data
    assert (nai["prompt"], nai["seed"], nai["models"]) == (
        "a castle",
        "5",
        ["NovelAI Diffusion V3 7BCCAA2C"],
    )


def test_plain_picture_has_no_findings(tmp_path: Path) -> None:
    path = tmp_path / "plain.jpg"
    path.write_bytes(jpeg(data.chelsea()))
    result = run(path)
    assert result.signals == [] and result.warnings == []


def test_huge_and_bomb_text_chunks_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    Image.fromarray(data.coffee()[:32, :32]).save(path)
    raw = path.read_bytes()
    head, tail = raw[:33], raw[33:]  # after IHDR

    def chunk(ctype: bytes, body: bytes) -> bytes:
        return (
            len(body).to_bytes(4, "big")
            + ctype
            + body
            + zlib.crc32(ctype + body).to_bytes(4, "big")
        )

    big = chunk(b"tEXt", b"parameters\x00" + b"A" * (containers.MAX_BLOCK + 1000))
    bomb = chunk(b"zTXt", b"prompt\x00\x00" + zlib.compress(b"{" * (200 << 20), 9))
    path.write_bytes(head + big + bomb + tail)
    started = time.monotonic()
    result = run(path)
    assert time.monotonic() - started < 30
    meta = containers.read_metadata(path)
    texts = meta.texts()
    assert texts["parameters"].truncated and len(texts["parameters"].data) <= containers.MAX_BLOCK
    assert texts["prompt"].truncated and len(texts["prompt"].data) == containers.MAX_TEXT
    assert any("only the first" in p for p in meta.problems)
    ev = result.signals[0].data["evidence"][0]
    assert len(ev["text"]) == ProvenanceSettings().raw_text_limit  # raw evidence is bounded


def test_truncated_and_garbage_files_never_raise(tmp_path: Path) -> None:
    buf = io.BytesIO()
    _png(tmp_path / "x.png", {"parameters": "Steps: 1, Sampler: a, Seed: 2"})
    full = (tmp_path / "x.png").read_bytes()
    for n, cut in enumerate(
        (
            full[:40],
            full[: len(full) // 2],
            b"\x89PNG\r\n\x1a\n" + b"\xff" * 50,
            b"\xff\xd8\xff\xe1\xff\xff" + b"\x00" * 10,
            b"RIFF\x00\x00\x00\x10WEBPVP8X",
        )
    ):
        path = _write(tmp_path / f"bad{n}.bin", cut)
        result = run(path)  # no exception
        assert isinstance(result.warnings, list)
    assert buf is not None


def test_stealth_parameters_in_the_alpha_channel(tmp_path: Path) -> None:
    text = "a fox\nNegative prompt: ugly\nSteps: 20, Sampler: Euler, Seed: 99, Model: m1"
    payload = gzip.compress(text.encode())
    bits = np.unpackbits(
        np.frombuffer(
            b"stealth_pngcomp" + (len(payload) * 8).to_bytes(4, "big") + payload, dtype=np.uint8
        )
    )
    rgba = np.dstack([data.coffee()[:128, :128], np.full((128, 128), 255, np.uint8)])
    alpha = rgba[:, :, 3].T.copy().reshape(-1)  # column by column, as the extension writes
    alpha[: bits.size] = (alpha[: bits.size] & 0xFE) | bits
    rgba[:, :, 3] = alpha.reshape(128, 128).T
    path = tmp_path / "stealth.png"
    Image.fromarray(rgba, "RGBA").save(path)
    found = by_value(run(path))["generator:AUTOMATIC1111"].data
    assert found["seed"] == "99" and found["prompt"] == "a fox"
    assert found["keys"] == ["alpha-channel LSB (stealth pnginfo)"]


def test_sd_watermark_found_in_png_and_lost_in_jpeg(tmp_path: Path) -> None:
    bgr = np.ascontiguousarray(data.astronaut()[:, :, ::-1])
    marked = watermark.embedder(watermark.MARKS["StableDiffusionV1"]).encode(bgr.copy())
    rgb = np.ascontiguousarray(marked[:, :, ::-1]).astype(np.uint8)
    png = tmp_path / "wm.png"
    Image.fromarray(rgb).save(png)
    found = by_value(run(png))["watermark:StableDiffusionV1"]
    assert found.data["detected"] and found.data["bits_matched"] >= 130 and found.score >= 0.95
    jpg = _write(tmp_path / "wm.jpg", jpeg(rgb, 90))
    assert not any(s.value.startswith("watermark:") for s in run(jpg).signals if s.value)
    plain = tmp_path / "plain.png"
    Image.fromarray(data.astronaut()).save(plain)
    assert run(plain).signals == []


def test_vectorised_decoder_equals_the_library(tmp_path: Path) -> None:
    for name in ("astronaut", "coffee", "rocket"):
        rgb = getattr(data, name)()
        for colour in (rgb, np.ascontiguousarray(rgb[:, :, ::-1])):
            assert np.array_equal(
                watermark.block_bits(colour), watermark.library_block_bits(colour)
            )
    per_block = watermark.block_bits(data.coffee())
    lib = watermark._max_dct().EmbedMaxDct(watermarks=[], wmLen=136).decode(data.coffee())
    assert np.array_equal(watermark.decode_mark(per_block, 136), lib)


def _manifest() -> list[dict[str, str]]:
    if not (PROVENANCE / "manifest.csv").is_file():
        pytest.skip(f"{PROVENANCE} is not present")
    with open(PROVENANCE / "manifest.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_shared_provenance_files(tmp_path: Path) -> None:
    rows = _manifest()
    for row in rows:
        path = PROVENANCE / row["file"]
        found = by_value(run(path))
        if (
            row["a1111_parameters"]
            or row["comfyui_models"]
            or row["png_text_keys"]
            in (
                "Dream",
                "invokeai_metadata",
                "Dream;sd-metadata",
                "parameters;fooocus_scheme",
            )
        ):
            assert any(v.startswith("generator:") for v in found), row["file"]
        if row["comfyui_models"]:
            assert found["generator:ComfyUI"].data["models"] == sorted(
                row["comfyui_models"].split(";")
            ), row["file"]
        if row["iptc_digital_source_type"]:
            assert found["iptc_dst"].data["digital_source_types"] == [
                row["iptc_digital_source_type"]
            ], row["file"]
        if row["c2pa_present"] == "True":
            c2pa = found["c2pa"].data
            assert c2pa["validation_state"] == row["c2pa_validation_state"], row["file"]
            assert c2pa["broken"] == (row["c2pa_validation_state"] == "Invalid")
        if row["exif_software"]:
            assert found["exif"].data["software"] == row["exif_software"], row["file"]

"""Generation parameters that image generators write into their files.

Recognised: AUTOMATIC1111 / Forge (``parameters`` text chunk, EXIF UserComment, and the
"stealth" copy hidden in the alpha channel's low bits), ComfyUI (``prompt`` and
``workflow`` JSON graphs, also in WebP EXIF Make/Model), Fooocus (``parameters`` JSON
with ``fooocus_scheme``), InvokeAI (``invokeai_metadata``, ``sd-metadata``, ``Dream``) and
NovelAI (``Software``/``Source``/``Description``/``Comment``). Each gives a
:class:`GeneratorFinding`: tool, prompt, negative prompt, models, seed, sampler and the
other parameters, plus the keys they came from. Parsing never raises: text that looks
like a generator's but does not parse is still reported, as ``unparsed``.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
import zlib
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

MAX_JSON = 16 << 20
STEALTH_MAX = 4 << 20  # bytes a stealth payload may inflate to


@dataclass
class GeneratorFinding:
    tool: str
    keys: list[str]
    prompt: str | None = None
    negative_prompt: str | None = None
    models: list[str] = field(default_factory=list)
    seed: str | None = None
    sampler: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    unparsed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, [], {}, False)}


def _json(text: str) -> Any:
    if len(text) > MAX_JSON:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _s(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


# -- AUTOMATIC1111 ---------------------------------------------------------------------------
# Keys are short; bounding them keeps the scan linear on a crafted megabyte-long line.
_PARAM = re.compile(r'\s*([\w][\w \-/]{0,63}):\s*("(?:\\.|[^\\"]){1,65536}"|[^,]{0,65536})(?:,|$)')
MAX_PARAM_LINE = 64 << 10


def _a1111_params(line: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _PARAM.finditer(line):
        key, value = m.group(1).strip(), m.group(2).strip()
        if value.startswith('"') and value.endswith('"'):
            value = value[1:-1]
        out[key] = value
    return out


def parse_a1111(text: str, keys: list[str]) -> GeneratorFinding | None:
    """``prompt\\nNegative prompt: ...\\nSteps: 20, Sampler: ..., Seed: ...`` (A1111's
    ``parse_generation_parameters`` layout: the last line holds ``key: value`` pairs)."""
    lines = text.strip().split("\n")
    if not lines or len(lines[-1]) > MAX_PARAM_LINE:
        return None
    params = _a1111_params(lines[-1])
    if "Steps" not in params or len(params) < 3:
        return None
    prompt: list[str] = []
    negative: list[str] = []
    in_negative = False
    for line in lines[:-1]:
        if line.startswith("Negative prompt:"):
            in_negative = True
            line = line[len("Negative prompt:") :].strip()
        (negative if in_negative else prompt).append(line)
    tool = "Fooocus" if params.get("Version", "").lower().startswith("fooocus") else "AUTOMATIC1111"
    models = [params["Model"]] if params.get("Model") else []
    return GeneratorFinding(
        tool,
        keys,
        prompt="\n".join(prompt).strip() or None,
        negative_prompt="\n".join(negative).strip() or None,
        models=models,
        seed=params.get("Seed"),
        sampler=params.get("Sampler"),
        parameters=params,
    )


# -- Fooocus ---------------------------------------------------------------------------------
def parse_fooocus(text: str, keys: list[str]) -> GeneratorFinding | None:
    data = _json(text)
    if not isinstance(data, dict):
        return parse_a1111(text, keys)
    fooocus = (
        "fooocus_scheme" in keys
        or "base_model" in data
        or "fooocus" in str(data.get("version", "")).lower()
    )
    models = [
        m for m in (_s(data.get("base_model")), _s(data.get("refiner_model"))) if m and m != "None"
    ]
    return GeneratorFinding(
        "Fooocus" if fooocus else "unknown (JSON parameters)",
        keys,
        prompt=_s(data.get("prompt")),
        negative_prompt=_s(data.get("negative_prompt")),
        models=models,
        seed=_s(data.get("seed")),
        sampler=_s(data.get("sampler")),
        parameters={k: v for k, v in data.items() if isinstance(v, str | int | float)},
    )


# -- ComfyUI ---------------------------------------------------------------------------------
_MODEL_INPUTS = ("ckpt_name", "unet_name")
_MODEL_RE = re.compile(r'"(?:ckpt_name|unet_name)"\s*:\s*"([^"]{1,300})"')


def _node_text(graph: dict[str, Any], link: Any, depth: int = 0) -> str | None:
    """The prompt text a sampler input points to (following a few reroute-like nodes)."""
    if depth > 8 or not (isinstance(link, list) and link):
        return None
    node = graph.get(str(link[0]))
    if not isinstance(node, dict):
        return None
    inputs = node.get("inputs") or {}
    for key in ("text", "text_g", "prompt"):
        if isinstance(inputs.get(key), str):
            return str(inputs[key])
    for key in ("conditioning", "conditioning_1", "positive"):
        if key in inputs:
            return _node_text(graph, inputs[key], depth + 1)
    return None


def parse_comfyui(prompt: str | None, workflow: str | None, keys: list[str]) -> GeneratorFinding:
    finding = GeneratorFinding("ComfyUI", keys)
    graph = _json(prompt) if prompt else None
    if isinstance(graph, dict):
        for node in graph.values():
            if not isinstance(node, dict):
                continue
            inputs = node.get("inputs") or {}
            for key in _MODEL_INPUTS:
                value = inputs.get(key)
                if isinstance(value, str) and value not in finding.models:
                    finding.models.append(value)
            if "sampler_name" in inputs and finding.sampler is None:
                finding.sampler = _s(inputs.get("sampler_name"))
                seed = inputs.get("seed", inputs.get("noise_seed"))
                finding.seed = _s(seed) if isinstance(seed, int | str) else None
                finding.prompt = _node_text(graph, inputs.get("positive"))
                finding.negative_prompt = _node_text(graph, inputs.get("negative"))
                for key in ("steps", "cfg", "scheduler", "denoise"):
                    if isinstance(inputs.get(key), str | int | float):
                        finding.parameters[key] = inputs[key]
        finding.models.sort()
        return finding
    # No (parsable) API graph: the UI workflow, or a truncated text; models by pattern.
    text = prompt or workflow or ""
    finding.models = sorted(set(_MODEL_RE.findall(text)))
    wf = _json(workflow) if workflow else None
    if isinstance(wf, dict) and not finding.models:
        for node in wf.get("nodes") or []:
            if isinstance(node, dict) and "CheckpointLoader" in str(node.get("type")):
                values = node.get("widgets_values") or []
                if values and isinstance(values[0], str):
                    finding.models.append(values[0])
    finding.unparsed = graph is None and wf is None
    return finding


# -- InvokeAI --------------------------------------------------------------------------------
def parse_invokeai(texts: dict[str, str]) -> GeneratorFinding:
    keys: list[str] = [k for k in ("invokeai_metadata", "sd-metadata", "Dream") if k in texts]
    finding = GeneratorFinding("InvokeAI", keys)
    meta = _json(texts.get("invokeai_metadata", ""))
    if isinstance(meta, dict):
        model = meta.get("model")
        name = model.get("model_name") or model.get("name") if isinstance(model, dict) else model
        finding.models = [str(name)] if name else []
        finding.prompt = _s(meta.get("positive_prompt"))
        finding.negative_prompt = _s(meta.get("negative_prompt"))
        finding.seed = _s(meta.get("seed"))
        finding.sampler = _s(meta.get("scheduler"))
        finding.parameters = {k: v for k, v in meta.items() if isinstance(v, str | int | float)}
        return finding
    sd = _json(texts.get("sd-metadata", ""))
    if isinstance(sd, dict):
        image: dict[str, Any] = sd["image"] if isinstance(sd.get("image"), dict) else {}
        prompt = image.get("prompt")
        if isinstance(prompt, list):
            prompt = " ".join(str(p.get("prompt", "")) for p in prompt if isinstance(p, dict))
        finding.models = [str(sd["model_weights"])] if sd.get("model_weights") else []
        finding.prompt = _s(prompt)
        finding.seed = _s(image.get("seed"))
        finding.sampler = _s(image.get("sampler"))
        finding.parameters = {k: v for k, v in image.items() if isinstance(v, str | int | float)}
        return finding
    dream = texts.get("Dream")
    if dream:
        return _parse_dream(dream, finding)
    finding.unparsed = True
    return finding


_DREAM_FLAGS = {
    "-s": "steps",
    "-S": "seed",
    "-W": "width",
    "-H": "height",
    "-C": "cfg_scale",
    "-A": "sampler",
}


def _parse_dream(text: str, finding: GeneratorFinding) -> GeneratorFinding:
    """``"a prompt [negative]" -s 50 -S 42 -W 512 -H 512 -C 7.5 -A k_lms``."""
    try:
        words = shlex.split(text[:65536])
    except ValueError:
        finding.unparsed = True
        return finding
    if words:
        finding.prompt = words[0]
    for flag, value in itertools.pairwise(words[1:]):
        if flag in _DREAM_FLAGS:
            finding.parameters[_DREAM_FLAGS[flag]] = value
    finding.seed = _s(finding.parameters.get("seed"))
    finding.sampler = _s(finding.parameters.get("sampler"))
    return finding


# -- NovelAI ---------------------------------------------------------------------------------
def parse_novelai(texts: dict[str, str]) -> GeneratorFinding:
    keys: list[str] = [
        k for k in ("Software", "Source", "Title", "Description", "Comment") if k in texts
    ]
    finding = GeneratorFinding("NovelAI", keys, prompt=_s(texts.get("Description")))
    if texts.get("Source"):
        finding.models = [texts["Source"]]
    comment = _json(texts.get("Comment", ""))
    if isinstance(comment, dict):
        finding.prompt = finding.prompt or _s(comment.get("prompt"))
        finding.negative_prompt = _s(comment.get("uc"))
        finding.seed = _s(comment.get("seed"))
        finding.sampler = _s(comment.get("sampler"))
        finding.parameters = {k: v for k, v in comment.items() if isinstance(v, str | int | float)}
    elif texts.get("Comment"):
        finding.unparsed = True
    return finding


# -- "stealth" parameters in the alpha channel -----------------------------------------------
_STEALTH = {b"stealth_pnginfo": False, b"stealth_pngcomp": True}


def stealth_text(rgba: np.ndarray) -> str | None:
    """The text that AUTOMATIC1111's stealth-pnginfo extension (and NovelAI) hide in the
    least significant bits of the alpha channel, read column by column; None if absent."""
    if rgba.ndim != 3 or rgba.shape[2] != 4:
        return None
    bits = (rgba[:, :, 3].T.reshape(-1) & 1).astype(np.uint8)
    header_bits = 15 * 8
    if bits.size < header_bits + 32:
        return None
    header = np.packbits(bits[:header_bits]).tobytes()
    if header not in _STEALTH:
        return None
    length = int.from_bytes(np.packbits(bits[header_bits : header_bits + 32]).tobytes(), "big")
    start = header_bits + 32
    if length <= 0 or length % 8 or start + length > bits.size:
        return None
    payload = np.packbits(bits[start : start + length]).tobytes()
    if _STEALTH[header]:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            payload = d.decompress(payload, STEALTH_MAX)
        except zlib.error:
            return None
    return payload.decode("utf-8", errors="replace")


# -- dispatch --------------------------------------------------------------------------------
def from_texts(texts: dict[str, str]) -> list[GeneratorFinding]:
    """Every generator whose parameters are among these text chunks (keyword -> text)."""
    found: list[GeneratorFinding] = []
    params = texts.get("parameters")
    if "fooocus_scheme" in texts and params is not None:
        fooocus = parse_fooocus(params, ["parameters", "fooocus_scheme"])
        found.append(fooocus or GeneratorFinding("Fooocus", ["parameters"], unparsed=True))
    elif params is not None:
        parsed = (
            parse_fooocus(params, ["parameters"])
            if params.lstrip().startswith("{")
            else parse_a1111(params, ["parameters"])
        )
        found.append(parsed or GeneratorFinding("AUTOMATIC1111", ["parameters"], unparsed=True))
    if "prompt" in texts or "workflow" in texts:
        keys: list[str] = [k for k in ("prompt", "workflow") if k in texts]
        found.append(parse_comfyui(texts.get("prompt"), texts.get("workflow"), keys))
    if any(k in texts for k in ("invokeai_metadata", "sd-metadata", "Dream")):
        found.append(parse_invokeai(texts))
    software = texts.get("Software", "")
    if software.strip().lower() == "novelai" or (
        "Comment" in texts and '"uc"' in texts["Comment"] and '"sampler"' in texts["Comment"]
    ):
        found.append(parse_novelai(texts))
    return found


def from_exif(
    user_comment: str | None, make: str | None, model: str | None
) -> list[GeneratorFinding]:
    """AUTOMATIC1111/Fooocus in a JPEG/WebP UserComment; ComfyUI's WebP ``workflow:`` Make
    and ``prompt:`` Model fields."""
    found: list[GeneratorFinding] = []
    if user_comment:
        parsed = (
            parse_fooocus(user_comment, ["EXIF UserComment"])
            if user_comment.lstrip().startswith("{")
            else parse_a1111(user_comment, ["EXIF UserComment"])
        )
        if parsed is not None and (parsed.tool != "Fooocus" or parsed.prompt or parsed.models):
            found.append(parsed)
    prompt = model[len("prompt:") :] if model and model.startswith("prompt:") else None
    workflow = make[len("workflow:") :] if make and make.startswith("workflow:") else None
    if prompt or workflow:
        keys = [
            k for k, v in (("EXIF Model prompt:", prompt), ("EXIF Make workflow:", workflow)) if v
        ]
        found.append(parse_comfyui(prompt, workflow, keys))
    return found

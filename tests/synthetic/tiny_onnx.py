"""A minimal ONNX model written by hand (protobuf wire format), for testing the
drop-in detector interface without the `onnx` package: input ``x`` float [1, 3, H, W],
``ReduceMean`` over H and W, output ``y`` float [1, 3] (one "logit" per colour channel)."""

from __future__ import annotations


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, wire: int, payload: bytes | int) -> bytes:
    key = _varint(number << 3 | wire)
    if wire == 0:
        assert isinstance(payload, int)
        return key + _varint(payload)
    assert isinstance(payload, bytes)
    return key + _varint(len(payload)) + payload


def _str(number: int, text: str) -> bytes:
    return _field(number, 2, text.encode())


def _tensor_type(dims: list[int | str]) -> bytes:
    dim_msgs = b"".join(
        _field(1, 2, _field(1, 0, d) if isinstance(d, int) else _str(2, d)) for d in dims
    )
    tensor = _field(1, 0, 1) + _field(2, 2, dim_msgs)  # elem_type FLOAT, shape
    return _field(1, 2, tensor)  # TypeProto.tensor_type


def _value_info(name: str, dims: list[int | str]) -> bytes:
    return _str(1, name) + _field(2, 2, _tensor_type(dims))


def mean_colour_model() -> bytes:
    axes = b"".join(_field(8, 0, a) for a in (2, 3))
    attr_axes = _str(1, "axes") + axes + _field(20, 0, 7)  # type INTS
    attr_keep = _str(1, "keepdims") + _field(3, 0, 0) + _field(20, 0, 2)  # type INT
    node = (
        _str(1, "x")
        + _str(2, "y")
        + _str(3, "mean")
        + _str(4, "ReduceMean")
        + _field(5, 2, attr_axes)
        + _field(5, 2, attr_keep)
    )
    graph = (
        _field(1, 2, node)
        + _str(2, "g")
        + _field(11, 2, _value_info("x", [1, 3, "H", "W"]))
        + _field(12, 2, _value_info("y", [1, 3]))
    )
    opset = _str(1, "") + _field(2, 0, 13)
    return _field(1, 0, 7) + _str(2, "haechi-tests") + _field(7, 2, graph) + _field(8, 2, opset)

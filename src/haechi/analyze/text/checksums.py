"""Checksums of the payment addresses sellers post: a random-looking string is only kept as
a wallet when its checksum holds, which is what makes a 1-in-4-billion false positive.

- Bitcoin legacy (``1...``, ``3...``) and TRON (``T...``): Base58Check (double SHA-256).
- Bitcoin SegWit (``bc1...``): BIP-173 bech32 for witness v0, BIP-350 bech32m for v1+.
- Ethereum: EIP-55 mixed-case checksum over Keccak-256 (not NIST SHA3-256, whose padding
  differs), implemented here because hashlib has no Keccak.
- TON user-friendly addresses: CRC16-XMODEM over flags, workchain and account id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(B58)}


def b58decode(s: str) -> bytes | None:
    num = 0
    for c in s:
        v = _B58_INDEX.get(c)
        if v is None:
            return None
        num = num * 58 + v
    raw = num.to_bytes((num.bit_length() + 7) // 8, "big") if num else b""
    pad = len(s) - len(s.lstrip("1"))
    return b"\x00" * pad + raw


def base58check(s: str) -> bytes | None:
    """The payload (version byte included) if the 4-byte checksum holds, else None."""
    raw = b58decode(s)
    if raw is None or len(raw) < 5:
        return None
    payload, check = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != check:
        return None
    return payload


def btc_base58_ok(addr: str) -> bool:
    payload = base58check(addr)
    return payload is not None and len(payload) == 21 and payload[0] in (0x00, 0x05)


def tron_ok(addr: str) -> bool:
    payload = base58check(addr)
    return payload is not None and len(payload) == 21 and payload[0] == 0x41


# -- bech32 / bech32m (BIP-173, BIP-350) ----------------------------------------------------
_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
BECH32, BECH32M = 1, 0x2BC830A3


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= _GEN[i] if ((top >> i) & 1) else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]


def bech32_decode(addr: str) -> tuple[str, list[int], int] | None:
    """(hrp, data without checksum, encoding constant) or None."""
    if addr.lower() != addr and addr.upper() != addr:
        return None  # mixed case is invalid by definition
    addr = addr.lower()
    pos = addr.rfind("1")
    if pos < 1 or pos + 7 > len(addr) or len(addr) > 90:
        return None
    hrp = addr[:pos]
    try:
        data = [_CHARSET.index(c) for c in addr[pos + 1 :]]
    except ValueError:
        return None
    const = _polymod(_hrp_expand(hrp) + data)
    if const not in (BECH32, BECH32M):
        return None
    return hrp, data[:-6], const


def _convertbits(data: list[int], frombits: int, tobits: int) -> list[int] | None:
    acc = bits = 0
    ret = []
    maxv = (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            ret.append((acc >> bits) & maxv)
    if bits >= frombits or ((acc << (tobits - bits)) & maxv):
        return None
    return ret


def segwit_ok(addr: str) -> bool:
    """A valid mainnet (bc) or testnet (tb) SegWit address under BIP-173/BIP-350."""
    dec = bech32_decode(addr)
    if dec is None:
        return False
    hrp, data, const = dec
    if hrp not in ("bc", "tb") or not data:
        return False
    version, program = data[0], _convertbits(data[1:], 5, 8)
    if program is None or version > 16 or not 2 <= len(program) <= 40:
        return False
    if version == 0 and len(program) not in (20, 32):
        return False
    return const == (BECH32 if version == 0 else BECH32M)


# -- Keccak-256 and EIP-55 ------------------------------------------------------------------
_RC = (
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
)  # fmt: skip
_ROT = (
    (0, 36, 3, 41, 18), (1, 44, 10, 45, 2), (62, 6, 43, 15, 61),
    (28, 55, 25, 21, 56), (27, 20, 39, 8, 14),
)  # fmt: skip
_M64 = (1 << 64) - 1


def _keccak_f(a: list[list[int]]) -> None:
    for rc in _RC:
        c = [a[x][0] ^ a[x][1] ^ a[x][2] ^ a[x][3] ^ a[x][4] for x in range(5)]
        d = [
            c[(x - 1) % 5] ^ (((c[(x + 1) % 5] << 1) | (c[(x + 1) % 5] >> 63)) & _M64)
            for x in range(5)
        ]
        for x in range(5):
            for y in range(5):
                a[x][y] ^= d[x]
        b = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                r = _ROT[x][y]
                v = a[x][y]
                b[y][(2 * x + 3 * y) % 5] = ((v << r) | (v >> (64 - r))) & _M64 if r else v
        for x in range(5):
            for y in range(5):
                a[x][y] = b[x][y] ^ ((~b[(x + 1) % 5][y]) & b[(x + 2) % 5][y])
        a[0][0] ^= rc


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as Ethereum uses it (padding 0x01, not SHA3's 0x06)."""
    rate = 136
    msg = bytearray(data) + b"\x01" + b"\x00" * ((-len(data) - 1) % rate)
    msg[-1] |= 0x80
    a = [[0] * 5 for _ in range(5)]
    for off in range(0, len(msg), rate):
        block = msg[off : off + rate]
        for i in range(rate // 8):
            a[i % 5][i // 5] ^= int.from_bytes(block[8 * i : 8 * i + 8], "little")
        _keccak_f(a)
    out = b"".join(a[i % 5][i // 5].to_bytes(8, "little") for i in range(4))
    return out


def eip55(addr_hex40: str) -> str:
    """The EIP-55 checksummed spelling of a 40-hex-digit address (no 0x)."""
    low = addr_hex40.lower()
    digest = keccak256(low.encode()).hex()
    return "".join(
        c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(low)
    )


def eth_checksum_state(addr: str) -> str:
    """``valid`` (mixed case matching EIP-55), ``unchecked`` (one case: carries no
    checksum) or ``invalid`` (mixed case that does not match: a typo or a fake)."""
    body = addr[2:]
    if body == body.lower() or body == body.upper():
        return "unchecked"
    return "valid" if eip55(body) == body else "invalid"


# -- TON -------------------------------------------------------------------------------------
def crc16_xmodem(data: bytes) -> int:
    return binascii.crc_hqx(data, 0)


def ton_friendly(addr: str) -> tuple[int, str, bool] | None:
    """(workchain, account id hex, testnet) of a valid user-friendly address, else None."""
    if len(addr) != 48:
        return None
    s = addr.replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 36 or crc16_xmodem(raw[:34]) != int.from_bytes(raw[34:], "big"):
        return None
    flags = raw[0]
    if flags & 0x7F not in (0x11, 0x51):
        return None
    workchain = raw[1] if raw[1] < 128 else raw[1] - 256
    if workchain not in (0, -1):
        return None
    return workchain, raw[2:34].hex(), bool(flags & 0x80)

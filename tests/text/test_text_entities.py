"""Identifier extraction with real-world formats and checksum edge cases.

Wallet vectors are the published ones: BIP-173/BIP-350 test vectors, the EIP-55 examples,
the Bitcoin genesis address, and TON's documented address forms.
"""

from __future__ import annotations

import pytest

from haechi.analyze.text import checksums as ck
from haechi.analyze.text.entities import extract, korean_phone


def kinds(text: str, **kw: object) -> set[tuple[str, str]]:
    return {(e.kind, e.value) for e in extract(text, **kw) if e.valid}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("입장 https://t.me/+Q29mZmVlVGFsazI", "tg_invite", "+Q29mZmVlVGFsazI"),
        ("t.me/joinchat/AAAAAEHbEkejzxUjAUCzYQ", "tg_invite", "+AAAAAEHbEkejzxUjAUCzYQ"),
        ("https://t.me/%2BQ29mZmVlVGFsazI", "tg_invite", "+Q29mZmVlVGFsazI"),
        ("tg://join?invite=Q29mZmVlVGFsazI", "tg_invite", "+Q29mZmVlVGFsazI"),
        ("채널 https://t.me/Coffee_Demo.", "tg_username", "coffee_demo"),
        ("미리보기 https://t.me/s/coffee_demo", "tg_username", "coffee_demo"),
        ("telegram.me/coffee_demo", "tg_username", "coffee_demo"),
        ("글 https://t.me/coffee_demo/15", "tg_message", "coffee_demo/15"),
        ("비공개 https://t.me/c/1234567890/55", "tg_private_message", "c/1234567890/55"),
        ("폴더 https://t.me/addlist/AbCdEf12", "tg_folder", "addlist/AbCdEf12"),
        ("봇 @NudeMaker_Bot 로", "tg_bot", "nudemaker_bot"),
        ("https://t.me/fake_helper_bot?start=ref123", "tg_bot", "fake_helper_bot"),
        ("tg://resolve?domain=coffee_demo", "tg_username", "coffee_demo"),
        ("문의 @coffee_talk_demo", "tg_username", "coffee_talk_demo"),
        ("메일 Some.One@Example.co.kr 로", "email", "some.one@example.co.kr"),
        ("010-1234-5678", "phone", "+821012345678"),
        ("+82 10 9876 5432", "phone", "+821098765432"),
        ("(02) 123-4567", "phone", "+8221234567"),
        ("031-123-4567", "phone", "+82311234567"),
        ("070-1234-5678", "phone", "+827012345678"),
        ("https://open.kakao.com/o/sAbCdEf1", "kakao_openchat", "o/sAbCdEf1"),
        ("discord.gg/abcXYZ 로 와", "discord_invite", "abcXYZ"),
        ("https://discord.com/invite/abcXYZ", "discord_invite", "abcXYZ"),
        ("인스타 @victim.name_01 사진", "instagram", "victim.name_01"),
        ("https://www.instagram.com/victim.name_01/", "instagram", "victim.name_01"),
        ("트위터: @someone_x", "x_handle", "someone_x"),
        ("https://x.com/Handle/status/1234", "x_handle", "handle"),
        ("https://twitter.com/handle", "x_handle", "handle"),
        ("see (https://example.com/a?utm_source=x&b=1#top).", "url", "https://example.com/a?b=1"),
    ],
)
def test_real_world_formats(text: str, kind: str, value: str) -> None:
    assert (kind, value) in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "t.me/joinchat",  # no hash
        "https://t.me/addstickers/CoffeeCats",  # a sticker set, not a chat
        "@abc",  # too short for a username
        "foo@bar",  # no domain
        "010-1234-567",  # too short for a mobile number
        "123-4567-8901",  # no Korean prefix
        "주문번호 20240831123456789",  # long digit runs are not phones
        "instagram.com/p/Cxyz123",  # a post, not a handle
        "x.com/i/flow/login",
    ],
)
def test_non_identifiers_are_ignored(text: str) -> None:
    found = {k for k, _ in kinds(text)} - {"url"}
    assert not found, found


def test_hidden_link_targets_and_buttons() -> None:
    entities = [
        {"type": "plain", "text": "여기 "},
        {"type": "text_link", "text": "새 방", "href": "https://t.me/+NewRoom123"},
        {"type": "mention_name", "text": "민지", "user_id": 5500000011},
    ]
    raw = {
        "inline_bot_buttons": [[{"type": "url", "text": "go", "data": "https://t.me/x_maker_bot"}]]
    }
    found = {(e.kind, e.value, e.source) for e in extract("여기 새 방", entities, raw)}
    assert ("tg_invite", "+NewRoom123", "text_link") in found
    assert ("tg_user_id", "5500000011", "mention_name") in found
    assert ("tg_bot", "x_maker_bot", "button") in found


def test_duplicates_collapse_and_spans_are_exact() -> None:
    text = "t.me/coffee_demo 그리고 @coffee_demo 또 https://t.me/coffee_demo"
    found = extract(text)
    assert [(e.kind, e.value) for e in found] == [("tg_username", "coffee_demo")]
    e = found[0]
    assert e.start is not None and e.end is not None and text[e.start : e.end] == e.raw


# -- wallets ------------------------------------------------------------------------------
GENESIS = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"


def test_bitcoin_base58() -> None:
    assert ("btc", GENESIS) in kinds(f"BTC: {GENESIS}")
    assert ("btc", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy") in kinds(
        "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
    )
    broken = GENESIS[:-1] + "b"  # one character off: checksum fails
    assert not kinds(broken)
    assert not ck.btc_base58_ok("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN0")  # 0 is not base58


@pytest.mark.parametrize(
    ("addr", "ok"),
    [
        ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", True),  # BIP-173, upper case
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", True),
        ("bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3", True),  # P2WSH
        ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", True),  # taproot
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", False),  # bad checksum
        ("bc1QW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", False),  # mixed case
        # BIP-350: checksums that hold under the other constant are invalid
        ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", False),  # v1 bech32
        ("BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL", False),  # v16 bech32
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", False),  # v0 bech32m
        ("bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90", False),
        ("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", True),  # testnet
    ],
)
def test_bitcoin_segwit_vectors(addr: str, ok: bool) -> None:
    assert ck.segwit_ok(addr) is ok
    assert (("btc", addr.lower()) in kinds(f"지갑 {addr}")) is ok


@pytest.mark.parametrize(
    "addr",
    [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ],
)
def test_eip55_examples(addr: str) -> None:
    assert ck.eip55(addr[2:].lower()) == addr[2:]
    found = extract(f"USDT(ERC20) {addr}")
    assert [(e.kind, e.value, e.detail["checksum"]) for e in found] == [
        ("eth", addr.lower(), "valid")
    ]


def test_eth_checksum_states() -> None:
    good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    assert ck.eth_checksum_state(good.lower()) == "unchecked"
    assert ck.eth_checksum_state(good[:-1] + "D") == "invalid"
    bad = extract(good[:-1] + "D")
    assert bad and not bad[0].valid  # kept, but marked: a typo or a forged address


def test_keccak_is_not_sha3() -> None:
    assert ck.keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    assert ck.keccak256(b"abc").hex() == (
        "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    )
    assert ck.keccak256(b"x" * 200).hex() != ck.keccak256(b"x" * 201).hex()  # multi-block


def test_tron_and_ton() -> None:
    tron = "TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL"
    assert ("tron", tron) in kinds(f"TRC20 {tron}")
    assert not kinds(tron[:-1] + "M")
    friendly = "EQDtFpEwcFAEcRe5mLVh2N6C0x-_hJEM7W61_JLnSF74p4q2"
    raw = "0:ed1691307050047117b998b561d8de82d31fbf84910ced6eb5fc92e7485ef8a7"
    assert ("ton", raw) in kinds(f"TON {friendly}")
    assert ("ton", raw) in kinds(f"raw {raw.upper().replace('0:', '0:', 1)}")
    assert not kinds(friendly[:-1] + "3")  # CRC16 fails
    # One wallet written in two forms is one identifier.
    assert len({v for k, v in kinds(f"{friendly} {raw}") if k == "ton"}) == 1


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("010 1234 5678", "+821012345678"),
        ("01012345678", "+821012345678"),
        ("+82-10-1234-5678", "+821012345678"),
        ("+82 (0)10 1234 5678", "+821012345678"),
        ("011-123-4567", "+82111234567"),
        ("0505-123-4567", "+825051234567"),
        ("080-123-4567", None),  # toll-free numbers are not personal: not matched
        ("010-123-456", None),
    ],
)
def test_korean_phone_normalisation(raw: str, e164: str | None) -> None:
    assert korean_phone(raw) == e164

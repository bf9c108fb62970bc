"""firecrawl_api.text.clean_text: text every encoder, database and zip writer accepts."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firecrawl_api.text import clean_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ("nul\x00byte", "nul\ufffdbyte"),
        ("lone \ud83d high", "lone \ufffd high"),
        ("lone \ude00 low", "lone \ufffd low"),
        # Two halves side by side in a Python string are still no character: each is replaced.
        ("\ud83d\ude00", "\ufffd\ufffd"),
        ("café \x00 中 \ud800", "café \ufffd 中 \ufffd"),
        ("emoji 😀 stays", "emoji 😀 stays"),
        ("", ""),
    ],
)
def test_it_replaces_nul_and_surrogates_with_the_replacement_character(
    text: str, expected: str
) -> None:
    assert clean_text(text) == expected


@given(st.text())
def test_what_it_returns_encodes_to_utf8_without_nul(text: str) -> None:
    cleaned = clean_text(text)

    assert b"\x00" not in cleaned.encode("utf-8")
    assert len(cleaned) == len(text)


@pytest.mark.parametrize("text", ["ascii only", "café", "中文", "😀", "x" * 100_000])
def test_it_returns_clean_text_itself_without_copying(text: str) -> None:
    assert clean_text(text) is text


def unsafe(c: str) -> bool:
    """The module's rule, character by character."""
    code = ord(c)
    return (
        (code < 0x20 and c not in "\t\n\r")
        or 0x7F <= code <= 0x9F
        or 0x202A <= code <= 0x202E
        or 0x2066 <= code <= 0x2069
        or c in "\ue000\ue001"
        or 0xD800 <= code <= 0xDFFF
    )


@pytest.mark.parametrize("prefix", ["", "text\n", "café\n"])
def test_each_unsafe_character_and_only_those_are_replaced(prefix: str) -> None:
    # Every character up to U+2FFF and the markers, alone in a line of ASCII text (markdown,
    # HTML: a faster check than the rest's) and of other text: each agrees with the rule.
    for code in [*range(0x3000), 0xD800, 0xDFFF, 0xE000, 0xE001, 0xE002, 0xFFFD]:
        c = chr(code)
        text = f"{prefix}a{c}b\n"
        assert clean_text(text) == f"{prefix}a{'\ufffd' if unsafe(c) else c}b\n", hex(code)

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

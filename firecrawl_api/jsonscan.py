"""Parse a JSON object and keep the exact source text of each item of one of its arrays.

A status page carries up to 10 MB of documents. The sync stores each document's JSON text, and
re-serialising the parsed objects would cost more than parsing them (and could not reproduce
what was received: json.dumps of a lone "\\ud800" escape is text no database accepts). The
standard library's decoder already reports where each value ends, so walking the top-level
object here gives every item's text for the price of one parse.

Upstream JSON is hostile input: nesting deep enough to exhaust the decoder's recursion becomes a
`TooDeep` error (a ValueError), and an integer too long for Python's int() (over 4,300 digits)
becomes an infinity that every range check refuses, where json.loads would raise.
"""

from __future__ import annotations

import json
import math
from typing import Any


class TooDeep(ValueError):
    """The JSON nests arrays or objects deeper than the decoder can follow."""

    def __init__(self) -> None:
        super().__init__("JSON nested too deeply to read")


def _parse_int(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return -math.inf if text.startswith("-") else math.inf


_decoder = json.JSONDecoder(parse_int=_parse_int)
_skip_whitespace = json.decoder.WHITESPACE.match  # type: ignore[attr-defined]


class SourcedList(list[Any]):
    """A parsed JSON array that also holds the source text of each of its items."""

    def __init__(self, items: list[Any], texts: list[str]) -> None:
        super().__init__(items)
        self.texts = texts


def loads(content: bytes) -> Any:
    """json.loads, except that the top-level object's "data" array is a SourcedList.

    Anything this walk does not expect (not UTF-8, not an object, invalid JSON) is left to
    json.loads, which parses it or raises the usual error, without source texts.
    """
    try:
        try:
            return _walk(content.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, IndexError):
            return json.loads(content, parse_int=_parse_int)
    except RecursionError:
        raise TooDeep from None


def parse(text: str) -> Any:
    """json.loads of one value (a stored document, say), with the same guards as `loads`."""
    try:
        return _decoder.decode(text)
    except RecursionError:
        raise TooDeep from None


def _walk(text: str) -> dict[str, Any]:
    index = _skip_whitespace(text, 0).end()
    if text[index] != "{":
        raise ValueError("not an object")
    index = _skip_whitespace(text, index + 1).end()
    payload: dict[str, Any] = {}
    if text[index] == "}":
        index += 1
    else:
        while True:
            key, index = _decoder.raw_decode(text, index)
            if not isinstance(key, str):
                raise ValueError("object key is not a string")
            index = _skip_whitespace(text, index).end()
            if text[index] != ":":
                raise ValueError("expected ':'")
            index = _skip_whitespace(text, index + 1).end()
            if key == "data" and text[index] == "[":
                payload[key], index = _array(text, index)
            else:
                payload[key], index = _decoder.raw_decode(text, index)
            index = _skip_whitespace(text, index).end()
            if text[index] == ",":
                index = _skip_whitespace(text, index + 1).end()
            elif text[index] == "}":
                index += 1
                break
            else:
                raise ValueError("expected ',' or '}'")
    if _skip_whitespace(text, index).end() != len(text):
        raise ValueError("extra data")
    return payload


def _array(text: str, index: int) -> tuple[SourcedList, int]:
    items: list[Any] = []
    texts: list[str] = []
    index = _skip_whitespace(text, index + 1).end()
    if text[index] == "]":
        return SourcedList(items, texts), index + 1
    while True:
        start = index
        item, index = _decoder.raw_decode(text, index)
        items.append(item)
        texts.append(text[start:index])
        index = _skip_whitespace(text, index).end()
        if text[index] == ",":
            index = _skip_whitespace(text, index + 1).end()
        elif text[index] == "]":
            return SourcedList(items, texts), index + 1
        else:
            raise ValueError("expected ',' or ']'")

"""Parse a JSON object and keep the exact source text of each item of one of its arrays.

A status page carries up to 10 MB of documents. The sync stores each document's JSON text, and
re-serialising the parsed objects would cost more than parsing them (and could not reproduce
what was received: json.dumps of a lone "\\ud800" escape is text no database accepts). The
standard library's decoder already reports where each value ends, so walking the top-level
object here gives every item's text for the price of one parse.

Upstream JSON is hostile input: nesting deep enough to exhaust the decoder's recursion becomes a
`TooDeep` error (a ValueError), and an integer too long for Python's int() (over 4,300 digits)
becomes an infinity that every range check refuses, where json.loads would raise.

A list of failed URLs can hold 200,000 entries: `scan_arrays` parses one as it streams in,
keeping the first entries and counting the rest, so its size never sits in memory.
"""

from __future__ import annotations

import codecs
import json
import math
from collections.abc import Callable, Iterable
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


# Streamed -------------------------------------------------------------------------------------

# Parsed text is dropped from the buffer once this much of it has piled up.
_TRIM_AT = 2**20


class _Stream:
    """The text of a JSON body arriving in chunks: only what is not parsed yet is held."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._ended = False
        self.text = ""
        self.index = 0

    def _more(self) -> bool:
        """Append the next chunk's text; False at the end of the body."""
        if self.index > _TRIM_AT or self.index * 2 > len(self.text):
            self.text, self.index = self.text[self.index :], 0
        for chunk in self._chunks:
            if piece := self._utf8.decode(chunk):
                self.text += piece
                return True
        if not self._ended:
            self._ended = True
            if tail := self._utf8.decode(b"", final=True):
                self.text += tail
                return True
        return False

    def peek(self) -> str:
        """The next character that is not white space (not consumed)."""
        while True:
            self.index = _skip_whitespace(self.text, self.index).end()
            if self.index < len(self.text):
                return self.text[self.index]
            if not self._more():
                raise ValueError("the JSON ends too early")

    def ended(self) -> bool:
        """Nothing but white space is left."""
        try:
            self.peek()
        except ValueError:
            return True
        return False

    def take(self, expected: str) -> str:
        found = self.peek()
        if found not in expected:
            raise ValueError(f"expected one of {expected!r}")
        self.index += 1
        return found

    def value(self) -> Any:
        """The next whole value. One that is not all here yet is tried again once at least as
        much text again has come: a 30 MB string costs a few parses, not one per chunk."""
        self.peek()
        while True:
            try:
                value, end = _decoder.raw_decode(self.text, self.index)
            except RecursionError:
                raise TooDeep from None
            except ValueError:
                end = None
            # A value that reaches the end of what came may go on (a number) or be cut.
            if end is not None and (end < len(self.text) or self._ended):
                self.index = end
                return value
            wanted = 2 * (len(self.text) - self.index)
            if not self._more():
                if end is None:
                    raise ValueError("the JSON ends inside a value")
                self.index = end
                return value
            while len(self.text) - self.index < wanted and self._more():
                pass


def scan_arrays(
    chunks: Iterable[bytes],
    keep: int,
    tally: Callable[[str, Any], str | None] | None = None,
) -> tuple[dict[str, Any], dict[str, int]]:
    """A JSON object streamed in `chunks`, parsed as it comes: each array member keeps its first
    `keep` items, and the others are only counted (`counts`: how many each array had). Memory
    stays at what one item and one chunk need, however long the arrays.
    `tally(key, item)`: a name to count the item under in `counts` as well (or None), for every
    item, kept or not."""
    stream = _Stream(chunks)
    stream.take("{")
    payload: dict[str, Any] = {}
    counts: dict[str, int] = {}
    if stream.peek() == "}":
        stream.index += 1
        return payload, counts
    while True:
        key = stream.value()
        if not isinstance(key, str):
            raise ValueError("object key is not a string")
        stream.take(":")
        if stream.peek() == "[":
            stream.index += 1
            items: list[Any] = []
            count = 0
            if stream.peek() == "]":
                stream.index += 1
            else:
                while True:
                    item = stream.value()
                    count += 1
                    if tally is not None and (name := tally(key, item)) is not None:
                        counts[name] = counts.get(name, 0) + 1
                    if count <= keep:
                        items.append(item)
                    if stream.take(",]") == "]":
                        break
            payload[key], counts[key] = items, count
        else:
            payload[key] = stream.value()
        if stream.take(",}") == "}":
            if not stream.ended():
                raise ValueError("extra data")
            return payload, counts

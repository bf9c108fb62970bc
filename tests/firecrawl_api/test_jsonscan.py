"""The status-page parser that keeps each document's JSON text: always json.loads' answer."""

import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from firecrawl_api import jsonscan

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
layouts = st.sampled_from(
    [
        {"separators": (",", ":")},
        {},
        {"indent": 2},
        {"indent": "\t", "ensure_ascii": False},
        {"separators": (" , ", " : "), "ensure_ascii": False},
    ]
)


@given(
    st.dictionaries(st.text(max_size=8), values, max_size=4),
    st.lists(values, max_size=5),
    layouts,
)
@example({"next": None, "status": "completed"}, [{"markdown": "\ud800 lone"}], {})
def test_it_parses_like_json_loads_and_keeps_each_items_source_text(
    fields: dict[str, Any], data: list[Any], layout: dict[str, Any]
) -> None:
    content = json.dumps({**fields, "data": data}, **layout).encode("utf-8", "surrogatepass")
    payload = jsonscan.loads(content)
    assert payload == json.loads(content)
    assert isinstance(payload["data"], jsonscan.SourcedList)
    assert [json.loads(text) for text in payload["data"].texts] == data
    for text in payload["data"].texts:
        assert text in content.decode("utf-8", "surrogatepass")  # a slice, not a rewrite


def test_the_text_is_the_document_exactly_as_sent() -> None:
    content = b'{"success":true, "data":[ {"b":1,"a":"\\u00e9\\n"} ,{"x" : [1, 2.50]}], "total":2}'
    payload = jsonscan.loads(content)
    assert payload["data"].texts == ['{"b":1,"a":"\\u00e9\\n"}', '{"x" : [1, 2.50]}']
    assert payload["total"] == 2


def test_a_repeated_key_keeps_the_last_value_like_json_loads() -> None:
    payload = jsonscan.loads(b'{"data":[1],"data":[2,3]}')
    assert payload == {"data": [2, 3]}
    assert payload["data"].texts == ["2", "3"]


@pytest.mark.parametrize(
    "content",
    [b"[1, 2]", b'"text"', b'\xef\xbb\xbf{"data": [1]}', b'{"data": NaN}', b"{}", b'{"a":1}'],
)
def test_what_it_does_not_walk_is_left_to_json_loads(content: bytes) -> None:
    assert jsonscan.loads(content) == json.loads(content)


@pytest.mark.parametrize(
    "content",
    [b'{"data": [1,]}', b'{"data": [1] "x": 2}', b'{"data": [1]} extra', b"{", b"", b"\xff{}"],
)
def test_invalid_json_raises_json_loads_error(content: bytes) -> None:
    with pytest.raises(ValueError) as expected:
        json.loads(content)
    with pytest.raises(ValueError) as raised:
        jsonscan.loads(content)
    # A drop-in for json.loads: the same error, down to its message.
    assert type(raised.value) is type(expected.value)
    assert str(raised.value) == str(expected.value)


def test_nesting_too_deep_for_the_decoder_is_a_value_error() -> None:
    deep = b'{"data": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}"

    with pytest.raises(jsonscan.TooDeep):
        jsonscan.loads(deep)
    with pytest.raises(ValueError, match="nested too deeply"):
        jsonscan.parse(deep.decode())


def test_an_integer_too_long_for_python_is_an_infinity_not_an_error() -> None:
    digits = "9" * 5000
    content = f'{{"total": {digits}, "data": [-{digits}, 7]}}'.encode()

    payload = jsonscan.loads(content)

    assert payload["total"] == math.inf
    assert payload["data"] == [-math.inf, 7]
    assert payload["data"].texts == [f"-{digits}", "7"]
    assert jsonscan.parse(digits) == math.inf


# Streamed: scan_arrays ------------------------------------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3)
    ),
    max_leaves=8,
)


@given(
    st.dictionaries(st.text(max_size=5), st.lists(_json_values, max_size=6) | _json_values),
    st.integers(0, 4),
    st.lists(st.integers(1, 50), min_size=1, max_size=20),
)
def test_scan_arrays_reads_a_stream_cut_anywhere_keeping_the_first_items_of_each_array(
    payload: dict[str, Any], keep: int, cuts: list[int]
) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode()
    chunks, start = [], 0
    for size in cuts * (len(body) // sum(cuts) + 1):
        chunks.append(body[start : start + size])
        start += size

    scanned, counts = jsonscan.scan_arrays(iter(chunks), keep=keep)

    for key, value in payload.items():
        if isinstance(value, list):
            assert scanned[key] == value[:keep] and counts[key] == len(value)
        else:
            assert scanned[key] == value


def test_scan_arrays_holds_one_item_at_a_time_of_a_huge_list() -> None:
    def body() -> Iterator[bytes]:
        yield b'{"errors":['
        for n in range(200_000):
            yield (b"," if n else b"") + json.dumps({"url": f"https://x.test/{n}"}).encode()
        yield b'],"robotsBlocked":["https://x.test/r"]}'

    scanned, counts = jsonscan.scan_arrays(body(), keep=3)

    assert [item["url"] for item in scanned["errors"]] == [f"https://x.test/{n}" for n in range(3)]
    assert counts == {"errors": 200_000, "robotsBlocked": 1}


def test_scan_arrays_tallies_every_item_kept_or_not() -> None:
    items = [{"n": n} for n in range(10)]
    body = json.dumps({"errors": items, "other": [{"n": 1}]}).encode()

    def odd(key: str, item: Any) -> str | None:
        return "errors:odd" if key == "errors" and item["n"] % 2 else None

    scanned, counts = jsonscan.scan_arrays(iter([body]), keep=2, tally=odd)

    assert scanned["errors"] == items[:2]
    assert counts == {"errors": 10, "errors:odd": 5, "other": 1}


@pytest.mark.parametrize("body", [b'{"errors":[1,2', b'{"errors":[1,,2]}', b"[1]", b'{"a":1}x'])
def test_scan_arrays_refuses_what_is_not_one_whole_object(body: bytes) -> None:
    with pytest.raises(ValueError):
        jsonscan.scan_arrays(iter([body]), keep=5)

"""The number rule and the two hash schemes of docs/record-format.md, on their own."""

from __future__ import annotations

import math
from datetime import UTC
from datetime import datetime
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.chained import body_of
from domain.errors import InvalidValueError
from domain.integrity import HASH_SCHEME
from domain.integrity import UnknownHashSchemeError
from domain.integrity import decimal_text
from domain.integrity import event_hash
from domain.integrity import legacy_hash
from domain.integrity import read_back
from domain.integrity import recorded
from domain.values import SYSTEM

ID = UUID("5a0e0000-0000-4000-8000-000000000001")
AT = datetime(2021, 7, 15, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0.6, "0.6"),
        (4.0, "4"),
        (12000000000.0, "12000000000"),
        (2.083333, "2.083333"),
        (1e-7, "0.0000001"),
        (1e22, "10000000000000000000000"),
        (-0.5, "-0.5"),
        (-0.0, "0"),
        (0.1 + 0.2, "0.30000000000000004"),
    ],
)
def test_a_float_is_written_as_the_shortest_decimal_without_exponent(number: float, text: str) -> None:
    assert decimal_text(number) == text
    assert recorded(number) == {"$decimal": text}


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_recorded_float_reads_back_as_itself(x: float) -> None:
    back = read_back(recorded({"a": [x, 1, "0.5", True, None]}))
    assert back == {"a": [x, 1, "0.5", True, None]}
    assert type(back["a"][0]) is float and math.copysign(1, back["a"][0]) == (1 if x == 0 else math.copysign(1, x))


def test_what_holds_no_decimal_is_read_back_as_the_same_object() -> None:
    data = {"a": [1, {"b": "x"}], "c": None}
    assert read_back(data) is data


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (float("nan"), "not a number|not JSON compliant"),
        (2**53, "beyond"),
        (-(2**53), "beyond"),
        ({"$decimal": "1"}, "reserved"),
        ([{"x": {"$decimal": "1", "y": 2}}], "reserved"),
    ],
)
def test_what_not_every_reader_reads_exactly_is_refused_with_a_message(value: object, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        recorded(value)
    with pytest.raises(InvalidValueError, match=why):
        body_of(SYSTEM, "", {"v": value}, "0" * 64)


def test_a_body_records_its_scheme_and_no_float() -> None:
    body = body_of(SYSTEM, "why", {"ratio": 0.6, "n": 12000000000.0, "k": 3}, "0" * 64)
    assert body["hash_scheme"] == HASH_SCHEME
    assert body["data"] == {"ratio": {"$decimal": "0.6"}, "n": {"$decimal": "12000000000"}, "k": 3}


def test_the_scheme_decides_the_rule_and_an_unknown_one_is_named() -> None:
    old = {"actor": {}, "reason": "", "data": {"x": 4.0}, "prev_hash": "0" * 64}
    assert event_hash("t", ID, 1, AT, old) == legacy_hash("t", ID, 1, AT, old)
    new = {**old, "data": {"x": {"$decimal": "4"}}, "hash_scheme": HASH_SCHEME}
    assert event_hash("t", ID, 1, AT, new) != legacy_hash("t", ID, 1, AT, new)
    # the text of the timestamp is hashed as written: the same instant written otherwise is another document
    assert event_hash("t", ID, 1, AT, new) == event_hash("t", ID, 1, "2021-07-15T02:00:00+00:00", new)
    assert event_hash("t", ID, 1, AT, new) != event_hash("t", ID, 1, "2021-07-15T10:00:00+08:00", new)
    with pytest.raises(UnknownHashSchemeError, match="unknown hash scheme 'jcs-sha256/9'"):
        event_hash("t", ID, 1, AT, {**new, "hash_scheme": "jcs-sha256/9"})

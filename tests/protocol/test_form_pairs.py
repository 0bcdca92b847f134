"""The form/query decoder on the request hot path agrees with urllib's parse_qsl."""

from __future__ import annotations

import urllib.parse
from urllib.parse import parse_qsl

from hypothesis import given, settings
from hypothesis import strategies as st

from awsemu.protocol.http import form_pairs


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(), st.text()), max_size=6), st.booleans())
def test_form_pairs_matches_parse_qsl(pairs, plus):
    quote = urllib.parse.quote_plus if plus else urllib.parse.quote
    text = urllib.parse.urlencode(pairs, quote_via=quote)
    assert form_pairs(text) == parse_qsl(text, keep_blank_values=True)


def test_form_pairs_edge_cases():
    for text in ["a", "a=", "=b", "a=1&&b=2", "x=%2B+y", "k=v=w", "a=%zz", "uploads", "list-type=2&prefix="]:
        assert form_pairs(text) == parse_qsl(text, keep_blank_values=True), text

"""The tuple key codec: byte order of encodings equals the natural order of values and tuples."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awsemu.storage.lsm.keycodec import decode, encode, encode_number, prefix_end


def dynamodb_numbers() -> st.SearchStrategy[Decimal]:
    """Numbers in DynamoDB's range: up to 38 significant digits, magnitude 1e-130 .. <1e126,
    biased towards the tricky spots (extreme exponents, long mantissas, near-equal values)."""

    @st.composite
    def build(draw: st.DrawFn) -> Decimal:
        ndigits = draw(st.integers(1, 38))
        first = draw(st.integers(1, 9))
        rest = draw(st.lists(st.integers(0, 9), min_size=ndigits - 1, max_size=ndigits - 1))
        if draw(st.booleans()):
            rest = [9] * len(rest) if draw(st.booleans()) else [0] * len(rest)
        digits = (first, *rest)
        # value = 0.d1d2... x 10^e with e in [-129, 126] gives magnitudes 1e-130 .. < 1e126
        e = draw(st.one_of(st.integers(-129, 126), st.sampled_from([-129, -128, 0, 1, 125, 126])))
        sign = draw(st.integers(0, 1))
        return Decimal((sign, digits, e - len(digits)))

    return st.one_of(
        build(),
        st.just(Decimal(0)),
        st.sampled_from(
            [Decimal("1E-130"), Decimal("-1E-130"), Decimal("9.9999999999999999999999999999999999999E+125"),
             Decimal("-9.9999999999999999999999999999999999999E+125"), Decimal("0.1"), Decimal("-0.1"),
             Decimal("1"), Decimal("-1"), Decimal("10"), Decimal("0.99"), Decimal("1.01")]
        ),
    )


def _cmp_key(value: object) -> object:
    if isinstance(value, str):
        return value.encode("utf-8")  # DynamoDB: UTF-8 byte order
    return value


@settings(max_examples=300, deadline=None)  # pairwise checks: slow on a busy machine
@given(st.lists(dynamodb_numbers(), min_size=2, max_size=8))
def test_numbers_sort_numerically(values: list[Decimal]) -> None:
    with localcontext() as ctx:
        ctx.prec = 80  # exact comparisons of 38-digit values
        by_value = sorted(values)
    assert [encode(v) for v in by_value] == sorted(encode(v) for v in values)
    for a in values:
        for b in values:
            assert (encode(a) < encode(b)) == (a < b)
            assert (encode(a) == encode(b)) == (a == b)


@settings(max_examples=300, deadline=None)  # pairwise checks: slow on a busy machine
@given(dynamodb_numbers())
def test_numbers_round_trip(value: Decimal) -> None:
    (decoded,) = decode(encode(value))
    assert decoded == value
    assert encode_number(str(value)) == encode(value)


@pytest.mark.parametrize(
    "same",
    [("1", "1.0", "10E-1", "0.1e1"), ("-0", "0", "0.000"), ("1.5E+10", "15000000000")],
)
def test_equal_numbers_encode_identically(same: tuple[str, ...]) -> None:
    assert len({encode_number(s) for s in same}) == 1


@settings(max_examples=300, deadline=None)  # pairwise checks: slow on a busy machine
@given(st.lists(st.integers(min_value=-(2**900), max_value=2**900), min_size=2, max_size=8))
def test_integers_sort_numerically(values: list[int]) -> None:
    for a in values:
        for b in values:
            assert (encode(a) < encode(b)) == (a < b)
    for v in values:
        assert decode(encode(v)) == (v,)


@settings(max_examples=300, deadline=None)  # pairwise checks: slow on a busy machine
@given(st.binary(max_size=12), st.binary(max_size=12))
def test_bytes_sort_unsigned(a: bytes, b: bytes) -> None:
    assert (encode(a) < encode(b)) == (a < b)
    assert decode(encode(a)) == (a,)


@settings(max_examples=300, deadline=None)  # pairwise checks: slow on a busy machine
@given(st.text(max_size=12), st.text(max_size=12))
def test_strings_sort_by_utf8(a: str, b: str) -> None:
    assert (encode(a) < encode(b)) == (a.encode() < b.encode())
    assert decode(encode(a, b)) == (a, b)


def parts_of_one_type() -> st.SearchStrategy[list[object]]:
    return st.one_of(
        st.lists(st.binary(max_size=6), min_size=1, max_size=3),
        st.lists(st.text(alphabet="\x00ab\xffé\U0001f600", max_size=6), min_size=1, max_size=3),
        st.lists(st.integers(-(2**70), 2**70), min_size=1, max_size=3),
        st.lists(dynamodb_numbers(), min_size=1, max_size=3),
    )


@st.composite
def tuple_pairs(draw: st.DrawFn) -> tuple[tuple[object, ...], tuple[object, ...]]:
    """Two tuples with matching part types position by position (one may be a prefix)."""
    types = draw(st.lists(st.sampled_from(["b", "s", "i", "n"]), min_size=1, max_size=4))
    strategies = {
        "b": st.binary(max_size=4),
        "s": st.text(alphabet="\x00a\xff\U0001f600", max_size=4),
        "i": st.integers(-300, 300),
        "n": dynamodb_numbers(),
    }
    a = tuple(draw(strategies[t]) for t in types)
    b = list(draw(strategies[t]) for t in types)
    if draw(st.booleans()):
        b[: len(b) // 2] = a[: len(b) // 2]  # share a prefix: the later parts decide
    cut = draw(st.integers(1, len(types)))
    return a, tuple(b[:cut])


@settings(max_examples=300, deadline=None)  # pairwise checks: slow on a busy machine
@given(tuple_pairs())
def test_tuples_compose(pair: tuple[tuple[object, ...], tuple[object, ...]]) -> None:
    a, b = pair
    natural_a = tuple(_cmp_key(x) for x in a)
    natural_b = tuple(_cmp_key(x) for x in b)
    assert (encode(*a) < encode(*b)) == (natural_a < natural_b)
    assert (encode(*a) == encode(*b)) == (natural_a == natural_b)
    assert decode(encode(*a)) == a


@settings(max_examples=300, deadline=None)  # pairwise checks: slow on a busy machine
@given(st.lists(st.binary(max_size=4), min_size=1, max_size=3), st.binary(max_size=3))
def test_prefix_sorts_before_extensions(prefix: list[bytes], extra: bytes) -> None:
    short = encode(*prefix)
    longer = encode(*prefix, extra)
    assert short < longer
    end = prefix_end(short)
    assert end is not None and short <= longer < end


@settings(max_examples=300, deadline=None)  # pairwise checks: slow on a busy machine
@given(st.binary(max_size=6), st.binary(max_size=6))
def test_prefix_end_is_tight(prefix: bytes, key: bytes) -> None:
    end = prefix_end(prefix)
    if key.startswith(prefix):
        assert end is None or key < end
    elif end is not None:
        # every key >= prefix that does not start with it is >= end
        assert key < prefix or key >= end


def test_prefix_end_edges() -> None:
    assert prefix_end(b"") is None
    assert prefix_end(b"\xff\xff") is None
    assert prefix_end(b"a\xff") == b"b"
    assert prefix_end(b"ab") == b"ac"


def test_mixed_part_types_and_errors() -> None:
    assert decode(encode(None, b"x", "y", 3, Decimal("-2.5"))) == (None, b"x", "y", 3, Decimal("-2.5"))
    assert encode(None) < encode(b"")
    with pytest.raises(TypeError):
        encode(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        encode(True)
    with pytest.raises(ValueError):
        encode(Decimal("NaN"))
    with pytest.raises(ValueError):
        decode(b"\x99")
    assert decode(encode(Decimal("100"))) == (Decimal("100"),)
    assert str(decode(encode(Decimal("1E+2")))[0]) == "100"

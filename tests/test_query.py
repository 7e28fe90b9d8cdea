"""Boolean brand queries: phrases, OR, exclusions, grouping, word boundaries, errors."""

from __future__ import annotations

import pytest

from monitor.core.errors import ConfigError
from monitor.core.query import parse_query

CASES = [
    ('"acme cloud" OR acmecloud', "Acme  Cloud is down again", True),
    ('"acme cloud" OR acmecloud', "#acmecloud outage", True),
    ('"acme cloud" OR acmecloud', "acme is a cloud company", False),
    ("acme -hiring", "acme is hiring engineers", False),
    ("acme -hiring", "acme lost my parcel", True),
    ("acme", "acmeville news", False),
    ("acme (refund OR charge)", "acme charged me twice", False),
    ("acme (refund OR charged)", "acme charged me twice", True),
    ("acme NOT job", "acme job offer", False),
    ("@acme", "hey @acme where is it", True),
]


@pytest.mark.parametrize(("query", "text", "expected"), CASES)
def test_matching(query: str, text: str, expected: bool) -> None:
    assert parse_query(query).matches(text) is expected


def test_brand_exclusions_apply_to_every_query() -> None:
    q = parse_query("acme", exclude=["job offer"])
    assert not q.matches("Acme job offer in Leeds")
    assert q.matches("Acme job was great")


def test_terms_for_sources() -> None:
    q = parse_query('"acme cloud" OR acmecloud -hiring', exclude=["spam"])
    assert q.positive_terms() == ["acme cloud", "acmecloud"]
    assert q.negative_terms() == ["spam", "hiring"]


@pytest.mark.parametrize("bad", ["", '"unclosed', "acme OR", "(acme", "acme)", "NOT"])
def test_bad_queries_are_clear_errors(bad: str) -> None:
    with pytest.raises(ConfigError, match="query"):
        parse_query(bad)


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    from monitor.core.errors import ConfigError
    from monitor.core.query import parse_query
    from monitor.store import _fts_query

    for text in ("(" * 500 + "acme" + ")" * 500, "NOT " * 2000 + "acme"):
        with pytest.raises(ConfigError, match="nested too deeply"):
            parse_query(text)
        assert _fts_query(text)  # a search falls back to the plain words
    assert parse_query("(" * 20 + "acme" + ")" * 20).matches("acme rocks")

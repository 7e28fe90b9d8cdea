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


@pytest.mark.parametrize("query, side", [
    ("-hiring", "it has"), ("NOT acme", "it has"), ("-acme -zenith", "it has"), ("NOT (acme OR zenith)", "it has"),
    ("acme OR -hiring", "one side of its OR has"), ('"acme cloud" OR (NOT hiring)', "one side of its OR has"),
])
def test_a_brand_query_of_exclusions_alone_is_refused(query: str, side: str) -> None:
    from monitor.core.query import check_query

    with pytest.raises(ConfigError) as caught:
        check_query(query, "brands[0].queries[1]", (), "Acme")
    message = str(caught.value)
    assert "\n" not in message and f"{side} only exclusions" in message
    assert message.startswith(f"brands[0].queries[1]: brand 'Acme', query {query!r}")
    assert '"acme -hiring"' in message and "exclude setting" in message
    check_query(query, "search")  # a search of the store may still be exclusions alone


@pytest.mark.parametrize("query", ["acme -hiring", "(acme OR zenith) -hiring", "acme NOT (hiring OR jobs)",
                                   '"acme cloud" OR (acmecloud -hiring)'])
def test_a_brand_query_with_a_term_to_look_for_is_accepted(query: str) -> None:
    from monitor.core.query import check_query

    check_query(query, "brands[0].queries[0]", (), "Acme")


def test_config_check_refuses_a_brand_query_that_would_claim_every_post(runner, write_settings) -> None:
    from monitor.cli import cli
    from monitor.core.config import load_settings

    path = write_settings('[classifier]\nmodel = "lexicon"\n[[brands]]\nname = "Acme"\n'
                          "queries = ['\"acme cloud\"', '-hiring']\n")
    result = runner.invoke(cli, ["--config", str(path), "config", "check"])
    assert result.exit_code == 2, result.output
    assert "brands[0].queries[1]: brand 'Acme', query '-hiring': it has only exclusions" in result.output
    assert "Traceback" not in result.output
    with pytest.raises(ConfigError, match="only exclusions"):
        load_settings(path)

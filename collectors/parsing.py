"""What search APIs send and take, as text: HTML to plain text, epoch timestamps, object fields, and a
brand query in a search API's boolean syntax."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

from monitor.core.query import Query

_HIDDEN_OPEN = re.compile(r"<(script|style)\b|<!--", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]+>")  # [^<>]: a stray "<" cannot make each later one scan to the end
_INLINE = re.compile(r"</?(?:a|abbr|b|bdi|code|em|i|mark|s|small|span|strong|sub|sup|u)(?:\s[^<>]*)?>", re.I)


def _drop_hidden(markup: str) -> str:
    """``markup`` without closed <script>/<style> elements and <!-- comments -->, in linear time;
    an unclosed one is left for the tag stripper (its text kept rather than everything after it)."""
    out, pos = [], 0
    while (found := _HIDDEN_OPEN.search(markup, pos)) is not None:
        closer = "-->" if found.group(0) == "<!--" else f"</{found.group(1)}"
        close = re.compile(re.escape(closer), re.IGNORECASE).search(markup, found.end())
        if close is None:
            break
        end = markup.find(">", close.start()) + 1 or len(markup)
        out.append(markup[pos:found.start()] + " ")
        pos = end
    return "".join(out) + markup[pos:]


def plain_text(markup: str) -> str:
    """HTML from an API (HN comments, feed summaries, toots) as text: tags dropped, entities decoded.

    Inline tags go without a trace, so ``#<span>acme</span>`` stays the hashtag ``#acme``;
    other tags (paragraphs, line breaks) become a space.
    """
    markup = _drop_hidden(markup)  # script, style and comments: never text a reader saw
    return " ".join(html.unescape(_TAG.sub(" ", _INLINE.sub("", markup))).split())


def json_object(value: object) -> dict[str, Any]:
    """A field of an API answer that should hold an object: itself, or empty when it is not one."""
    return value if isinstance(value, dict) else {}


def from_timestamp(value: float | int | str) -> datetime:
    return datetime.fromtimestamp(float(value), UTC)


def render_query(query: Query, *, and_op: str = " ", not_prefix: str = "-") -> str:
    """The query in a search API's boolean syntax (X: ``a -b``; Lucene: ``a AND NOT b``)."""
    from monitor.core.query import All, Any_, Not, Term

    def render(node: object, nested: bool) -> str:
        if isinstance(node, Term):
            return f'"{node.text}"' if any(not c.isalnum() for c in node.text.strip("#@$")) \
                else node.text
        if isinstance(node, Not):
            return not_prefix + render(node.node, True)
        if isinstance(node, All | Any_):
            joiner = and_op if isinstance(node, All) else " OR "
            text = joiner.join(render(n, True) for n in node.nodes)
            return f"({text})" if nested else text
        raise TypeError(f"not a query node: {node!r}")

    parts = [render(query.root, bool(query.exclude))]
    parts += [not_prefix + render(Term(e), True) for e in query.exclude]
    return and_op.join(parts)

"""Boolean keyword queries: `"acme cloud" OR acmecloud -hiring`, matched locally on any text.

Grammar: terms and "quoted phrases"; juxtaposition or AND means both; OR means either;
a leading - or NOT excludes; parentheses group. Matching is case-insensitive on word
boundaries, so `acme` does not match `acmeville`, on text folded as a reader sees it
(monitor.core.folding: "ａｃｍｅ", Cyrillic look-alikes); a phrase's words may be joined by
spaces, a hyphen, an underscore or a dot ("acme-cloud" is the phrase "acme cloud").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from monitor.core.errors import ConfigError
from monitor.core.folding import fold, readings

_TOKEN = re.compile(r'\s*(?:(\()|(\))|(-?)"([^"]*)"|(-?)([^\s()"]+))')


# Nodes are matched against a text's readings (monitor.core.folding.readings): a term is present
# when any reading holds it, so an excluded word stays excluded whichever reading shows it.


@dataclass(frozen=True)
class Term:
    text: str

    def matches(self, haystack: str) -> bool:
        return self.holds(readings(haystack))

    def holds(self, texts: tuple[str, ...]) -> bool:
        pattern = _pattern(self.text)
        return any(pattern.search(text) for text in texts)


@dataclass(frozen=True)
class Not:
    node: Node

    def matches(self, haystack: str) -> bool:
        return self.holds(readings(haystack))

    def holds(self, texts: tuple[str, ...]) -> bool:
        return not self.node.holds(texts)


@dataclass(frozen=True)
class All:
    nodes: tuple[Node, ...]

    def matches(self, haystack: str) -> bool:
        return self.holds(readings(haystack))

    def holds(self, texts: tuple[str, ...]) -> bool:
        return all(n.holds(texts) for n in self.nodes)


@dataclass(frozen=True)
class Any_:
    nodes: tuple[Node, ...]

    def matches(self, haystack: str) -> bool:
        return self.holds(readings(haystack))

    def holds(self, texts: tuple[str, ...]) -> bool:
        return any(n.holds(texts) for n in self.nodes)


Node = Term | Not | All | Any_

# Between a phrase's words: spaces, or one hyphen, underscore or dot ("acme-cloud", "acme_cloud").
_JOINER = re.compile(r"\s+|(?<=[^\W_])[-_.](?=[^\W_])")


@cache
def _pattern(text: str) -> re.Pattern[str]:
    text = fold(text).strip()
    words = [re.escape(w) for w in _JOINER.split(text.lower()) if w]
    body = r"(?:\s+|[-_.])".join(words)
    # Word boundaries only where the term starts/ends with a word character (#tags, @handles).
    left = r"(?<!\w)" if text[:1].isalnum() or text[:1] == "_" else ""
    right = r"(?!\w)" if text[-1:].isalnum() or text[-1:] == "_" else ""
    return re.compile(left + body + right, re.IGNORECASE)


def contains_term(term: str, text: str) -> bool:
    """Whether ``text`` holds ``term`` (a word or phrase) on word boundaries, ignoring case, folded."""
    return Term(term).matches(text)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ConfigError(f"query {text!r}: cannot read it at position {pos} (unbalanced quote?)")
        pos = m.end()
        if m.group(1):
            out.append(("(", "("))
        elif m.group(2):
            out.append((")", ")"))
        elif m.group(4) is not None:
            out.append(("-" if m.group(3) else "term", m.group(4)))
        else:
            word = m.group(6)
            if word in ("OR", "|"):
                out.append(("OR", word))
            elif word == "AND":
                continue
            elif word == "NOT":
                out.append(("NOT", word))
            else:
                out.append(("-" if m.group(5) else "term", word))
    return out


MAX_DEPTH = 50  # nesting of ( and NOT; deeper is refused rather than exhausting the stack


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0
        self.depth = 0

    def error(self, why: str) -> ConfigError:
        return ConfigError(f"query {self.text!r}: {why}")

    def peek(self) -> str | None:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def parse(self) -> Node:
        if not self.tokens:
            raise self.error("the query is empty")
        node = self.any_()
        if self.peek() is not None:
            raise self.error("unexpected ')'")
        return node

    def any_(self) -> Node:
        nodes = [self.all_()]
        while self.peek() == "OR":
            self.i += 1
            nodes.append(self.all_())
        return nodes[0] if len(nodes) == 1 else Any_(tuple(nodes))

    def all_(self) -> Node:
        nodes = []
        while self.peek() not in (None, "OR", ")"):
            nodes.append(self.unary())
        if not nodes:
            raise self.error("OR needs a term on each side")
        return nodes[0] if len(nodes) == 1 else All(tuple(nodes))

    def unary(self) -> Node:
        kind, value = self.tokens[self.i]
        self.i += 1
        if kind in ("NOT", "("):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.error("parentheses nested too deeply (or NOTs)")
            try:
                return self._nested(kind)
            finally:
                self.depth -= 1
        return self._leaf(kind, value)

    def _nested(self, kind: str) -> Node:
        if kind == "NOT":
            if self.peek() is None:
                raise self.error("NOT needs a term after it")
            return Not(self.unary())
        if kind == "(":
            node = self.any_()
            if self.peek() != ")":
                raise self.error("missing ')'")
            self.i += 1
            return node
        raise AssertionError(kind)

    def _leaf(self, kind: str, value: str) -> Node:
        if kind == "-":
            if not value.strip():
                raise self.error("empty exclusion -\"\"")  # it would exclude every text
            return Not(Term(value))
        if kind == ")":
            raise self.error("unexpected ')'")
        if not value.strip():
            raise self.error("empty phrase \"\"")
        return Term(value)


@dataclass(frozen=True)
class Query:
    """A parsed query plus the brand-wide exclusions."""

    text: str
    root: Node
    exclude: tuple[str, ...] = ()

    def matches(self, text: str) -> bool:
        texts = readings(text)
        if any(Term(e).holds(texts) for e in self.exclude):
            return False
        return self.root.holds(texts)

    def positive_terms(self) -> list[str]:
        """The terms a search must ask a source for (everything not under a NOT)."""
        out: list[str] = []

        def walk(node: Node) -> None:
            if isinstance(node, Term):
                out.append(node.text)
            elif isinstance(node, All | Any_):
                for child in node.nodes:
                    walk(child)

        walk(self.root)
        return out

    def negative_terms(self) -> list[str]:
        out = list(self.exclude)

        def walk(node: Node) -> None:
            if isinstance(node, Not) and isinstance(node.node, Term):
                out.append(node.node.text)
            elif isinstance(node, All | Any_):
                for child in node.nodes:
                    walk(child)

        walk(self.root)
        return out


def parse_query(text: str, exclude: tuple[str, ...] | list[str] = ()) -> Query:
    return Query(text=text, root=_Parser(text).parse(), exclude=tuple(exclude))


def _looks_for_something(node: Node) -> bool:
    """Whether every text the node matches must hold some term: false for `-hiring`, `NOT acme`, `acme OR -x`."""
    if isinstance(node, Term):
        return True
    if isinstance(node, All):
        return any(_looks_for_something(child) for child in node.nodes)
    if isinstance(node, Any_):
        return all(_looks_for_something(child) for child in node.nodes)
    return False


def check_query(text: str, where: str, exclude: tuple[str, ...] | list[str] = (), brand: str = "") -> None:
    """ConfigError naming ``where`` when ``text`` is not a readable query.

    With ``brand``, a query (or one side of its OR) made only of exclusions is refused too: it
    matches every post without the excluded words, so every post would become that brand's.
    """
    try:
        query = parse_query(text, exclude)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{where}: parentheses nested too deeply") from None
    if brand and not _looks_for_something(query.root):
        part = "one side of its OR has" if isinstance(query.root, Any_) else "it has"
        raise ConfigError(
            f"{where}: brand {brand!r}, query {text!r}: {part} only exclusions, so it would match every post; "
            f"write an exclusion after a term (\"acme -hiring\") or in the brand's exclude setting"
        )

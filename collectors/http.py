"""HTTP for collectors: timeouts, bounded exponential backoff honouring Retry-After, clear errors.

Every requests-based client (praw, tweepy, plain requests) gets the same adapter; clients on
other stacks (atproto's httpx) go through ``call_with_retries`` with the same policy.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from monitor.core.errors import SourceError
from monitor.core.retry import server_wait

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
T = TypeVar("T")


@dataclass
class RetryPolicy:
    """How hard one source tries: ``retries`` extra attempts, waits doubling from ``backoff``."""

    what: str
    timeout: float = 20.0
    retries: int = 4
    backoff: float = 1.0
    max_wait: float = 60.0
    min_interval: float = 0.0  # the API's documented request rate, as seconds between requests
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0.0

    def throttle(self) -> None:
        """Space requests at least ``min_interval`` apart, as the API's rate limit asks."""
        if self.min_interval <= 0:
            return
        with self._lock:
            wait = self._last + self.min_interval - time.monotonic()
            if wait > 0:
                self.sleep(wait)
            self._last = time.monotonic()

    def wait_for(self, attempt: int, headers: Mapping[str, str] | None) -> float:
        """Seconds to wait before retry ``attempt`` (0-based): the server's word, else backoff."""
        asked = server_wait(headers or {})
        if asked is not None:
            return asked
        return min(self.backoff * (2 ** attempt), self.max_wait)


class RetryingAdapter(HTTPAdapter):
    """Retries 429, 5xx and connection failures under a policy; optionally rewrites the host.

    The rewrite is how clients with a fixed API host (tweepy) honour the base_url setting.
    """

    def __init__(self, policy: RetryPolicy, rewrite_to: str | None = None) -> None:
        super().__init__()
        self.policy = policy
        self.rewrite_to = urlsplit(rewrite_to) if rewrite_to else None

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self.rewrite_to is not None and request.url:
            parts = urlsplit(request.url)
            prefix = self.rewrite_to.path.rstrip("/")
            request.url = urlunsplit((self.rewrite_to.scheme, self.rewrite_to.netloc,
                                      prefix + parts.path, parts.query, parts.fragment))
        # The source's timeout setting rules, also over a client's own fixed default: praw never
        # hands its timeout to prawcore, which sends 16 s with every request.
        kwargs["timeout"] = self.policy.timeout
        attempt = 0
        while True:
            self.policy.throttle()
            try:
                response = super().send(request, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt >= self.policy.retries:
                    raise SourceError(f"{self.policy.what}: no answer from {_host(request.url)} "
                                      f"after {attempt + 1} tries ({type(exc).__name__})") from None
                wait = self.policy.wait_for(attempt, None)
            else:
                if response.status_code not in RETRY_STATUSES or attempt >= self.policy.retries:
                    return response
                wait = self.policy.wait_for(attempt, response.headers)
                if wait > self.policy.max_wait:
                    # Waiting longer than allowed would hold up every other source: give up now.
                    return response
                response.close()
            log.info("%s: retrying in %.1fs (attempt %d of %d)", self.policy.what, wait,
                     attempt + 2, self.policy.retries + 1)
            self.policy.sleep(wait)
            attempt += 1


class Session(requests.Session):
    """A session that drops ``secret_headers`` on a redirect to another host, as requests does
    with Authorization: an API key sent in its own header (Trustpilot's ``apikey``) is not sent on."""

    secret_headers: tuple[str, ...] = ()

    def rebuild_auth(self, prepared_request: requests.PreparedRequest,
                     response: requests.Response) -> None:
        super().rebuild_auth(prepared_request, response)
        if self.secret_headers and self.should_strip_auth(response.request.url, prepared_request.url):
            for name in self.secret_headers:
                prepared_request.headers.pop(name, None)


def make_session(policy: RetryPolicy, *, rewrite_to: str | None = None,
                 session: requests.Session | None = None) -> requests.Session:
    session = session or Session()
    adapter = RetryingAdapter(policy, rewrite_to)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _host(url: str | None) -> str:
    """The host (and port) of a URL for an error line; never a ``user:password@`` in it."""
    netloc = urlsplit(url or "").netloc.rpartition("@")[2]
    return netloc or "the server"


def check_response(response: requests.Response, what: str, *,
                   credentials: tuple[str, ...] = ()) -> None:
    """Raise a SourceError that says what went wrong, for any non-2xx answer."""
    status = response.status_code
    if 200 <= status < 300:
        return
    if status in (401, 403) and credentials:
        raise SourceError(f"{what}: the server rejected the credentials (HTTP {status}); "
                          f"check {', '.join(credentials)}")
    if status == 429:
        wait = server_wait(response.headers)
        hint = f"; the server asks to wait {wait:.0f}s" if wait is not None else ""
        raise SourceError(f"{what}: rate limited (HTTP 429) after retries{hint}")
    raise SourceError(f"{what}: HTTP {status} from {_host(response.url)}: {snippet(response.text)}")


def parse_json(response: requests.Response, what: str) -> Any:
    """The JSON body, or a SourceError naming an HTML page or a cut-off body for what it is."""
    text = response.content.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError as exc:
        if text.lstrip()[:1] == "<":
            raise SourceError(f"{what}: expected JSON, got an HTML page from {_host(response.url)}: "
                              f"{snippet(text)}") from None
        raise SourceError(f"{what}: the response is not valid JSON ({exc}); "
                          f"{len(response.content)} bytes, truncated or malformed") from None


def get_json(session: requests.Session, url: str, what: str, *, params: Mapping[str, Any] | None = None,
             credentials: tuple[str, ...] = ()) -> Any:
    response = session.get(url, params=params)
    check_response(response, what, credentials=credentials)
    return parse_json(response, what)


def call_with_retries(policy: RetryPolicy, call: Callable[[], T],
                      transient: Callable[[Exception], Mapping[str, str] | None]) -> T:
    """Run ``call``; when ``transient`` returns headers for its error, wait and try again."""
    attempt = 0
    while True:
        policy.throttle()
        try:
            return call()
        except Exception as exc:
            headers = transient(exc)
            if headers is None or attempt >= policy.retries:
                raise
            wait = policy.wait_for(attempt, headers)
            if wait > policy.max_wait:
                raise
            log.info("%s: %s; retrying in %.1fs", policy.what, _without_queries(str(exc)), wait)
            policy.sleep(wait)
            attempt += 1


def _without_queries(text: str) -> str:
    """An error's first line with URL query strings cut: an API key in one (YouTube's) is not logged."""
    return re.sub(r"(https?://[^\s?\"'<>]*)\?[^\s\"'<>]*", r"\1?…", text.splitlines()[0] if text else "")


def snippet(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat[:limit] + ("…" if len(flat) > limit else "")

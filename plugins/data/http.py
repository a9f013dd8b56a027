"""HTTP plumbing shared by the provider connectors: a per-source rate limit, retries with
exponential backoff and jitter on transient failures, and fail-fast permanent errors.

Transient (retried): HTTP 429, FinMind's 402 "upper limit", 5xx, timeouts, dropped connections,
and bodies that are not complete JSON. Permanent (raised at once): 400/401/403/404 and any
other 4xx. Every error names the source, the dataset and the symbol.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx
from pydantic import Field
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from jgod_core.errors import JGodError
from jgod_core.plugin.components import Params

TRANSIENT_STATUS = frozenset({402, 408, 425, 429, 500, 502, 503, 504})


class FetchError(JGodError):
    """A provider request failed; names source, dataset and symbol. Nothing was written."""

    def __init__(self, source: str, dataset: str, symbol: str, reason: str) -> None:
        self.source, self.dataset, self.symbol, self.reason = source, dataset, symbol, reason
        super().__init__(f"{source} {dataset} {symbol}: {reason}")


class TransientFetchError(FetchError):
    """A failure worth retrying (rate limit, server error, timeout, truncated body)."""


class RetryParams(Params):
    """Rate limit and retry policy of a provider connector."""

    calls_per_minute: float = Field(30.0, gt=0, le=6000, description="Request budget of this source.")
    timeout_seconds: float = Field(30.0, gt=0, le=600, description="Per-request timeout.")
    max_attempts: int = Field(6, ge=1, le=20, description="Tries per request, the first included.")
    backoff_initial_seconds: float = Field(1.0, ge=0, le=60, description="First retry wait (doubles, plus jitter).")
    backoff_max_seconds: float = Field(60.0, ge=0, le=3600, description="Longest wait between retries.")


class ConnectorParams(RetryParams):
    """Endpoint, rate limit and retry policy of an HTTP provider connector."""

    base_url: str = Field(..., min_length=1, description="Base URL of the provider's HTTP API.")


@dataclass
class RateLimiter:
    """At most ``calls_per_minute`` calls: waits so that calls are spaced ``60 / rate`` seconds apart."""

    calls_per_minute: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _next_at: float = field(default=0.0, init=False)

    def acquire(self) -> None:
        """Block until the next call is allowed, then book the slot after it."""
        now = self.clock()
        if now < self._next_at:
            self.sleep(self._next_at - now)
            now = self._next_at
        self._next_at = now + 60.0 / self.calls_per_minute


class JsonClient:
    """GET JSON from one provider under its rate limit and retry policy."""

    def __init__(self, source: str, params: ConnectorParams, headers: dict[str, str] | None = None) -> None:
        self.source = source
        self.params = params
        self.limiter = RateLimiter(params.calls_per_minute)
        self.http = httpx.Client(base_url=params.base_url, headers=headers or {}, timeout=params.timeout_seconds)
        self.describe: Callable[[str], None] | None = None  # progress line, set by the fetch driver

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self.http.close()

    def __enter__(self) -> "JsonClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get_json(self, path: str, query: dict[str, Any], dataset: str, symbol: str,
                 check: Callable[[Any], None] | None = None) -> Any:
        """The decoded JSON body of ``GET path?query``, retrying transient failures.

        ``check(body)`` may raise :class:`TransientFetchError` for limits a provider reports
        inside a 200 response; those are retried like HTTP ones.
        """
        def once() -> Any:
            body = self._get_once(path, query, dataset, symbol)
            if check is not None:
                check(body)
            return body

        return call_with_retries(self.source, self.params, dataset, symbol, once)

    def _get_once(self, path: str, query: dict[str, Any], dataset: str, symbol: str) -> Any:
        if self.describe is not None:
            self.describe(f"{self.source} {dataset} {symbol} GET {path}")
        self.limiter.acquire()
        try:
            response = self.http.get(path, params=query)
        except httpx.TimeoutException:
            raise TransientFetchError(self.source, dataset, symbol, f"timed out after {self.params.timeout_seconds} s") from None
        except httpx.TransportError as exc:
            raise TransientFetchError(self.source, dataset, symbol, f"connection failed: {exc}") from None
        if response.status_code in TRANSIENT_STATUS or response.status_code >= 500:
            raise TransientFetchError(self.source, dataset, symbol,
                                      f"HTTP {response.status_code}: {_message(response)}")
        if response.status_code >= 400:
            hint = " (check the token/API key in the environment)" if response.status_code in (401, 403) else ""
            raise FetchError(self.source, dataset, symbol, f"HTTP {response.status_code}: {_message(response)}{hint}")
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise TransientFetchError(self.source, dataset, symbol, f"response is not valid JSON ({exc})") from None


def call_with_retries(source: str, params: RetryParams, dataset: str, symbol: str, once: Callable[[], Any]) -> Any:
    """``once()`` retried with exponential backoff and jitter while it raises
    :class:`TransientFetchError`; after ``max_attempts`` a :class:`FetchError` says so."""
    retrying = Retrying(
        stop=stop_after_attempt(params.max_attempts),
        wait=wait_exponential_jitter(multiplier=params.backoff_initial_seconds, max=params.backoff_max_seconds,
                                     jitter=params.backoff_initial_seconds),
        retry=retry_if_exception_type(TransientFetchError),
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                return once()
    except TransientFetchError as exc:
        raise FetchError(source, dataset, symbol, f"{exc.reason} (gave up after {params.max_attempts} attempts)") from None
    except RetryError as exc:  # pragma: no cover - reraise=True re-raises the last error
        raise FetchError(source, dataset, symbol, str(exc)) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict):
        for key in ("msg", "message", "error"):
            if key in body:
                return str(body[key])
    return str(body)[:200]

"""Salla's Admin API v2 for one store: paced by the store's shared rate budget, retried where that is safe.

- Every request first reserves a slot in the store's budget (`app.salla.rate_budget`) and sleeps until it.
- 429: wait Retry-After (every process of the store waits with us) and try again, however long the storm.
- 401: refresh the tokens once (under the store's lock: another process may already have) and try again.
- 5xx and network errors: a few retries with backoff (a POST only when it cannot have been processed).
- NeedsReauthorization (Salla revoked the tokens) propagates: only the merchant can fix it.
The access token goes into the Authorization header and nowhere else: not into errors, logs or reprs.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any

import httpx
import structlog
from redis.asyncio import Redis

from app.salla.accounts import AccountsError
from app.salla.rate_budget import RateBudget, Reservation
from app.salla.store_repository import StoreRecord
from app.salla.tokens import access_token_of, refresh_tokens
from app.settings import Settings

__all__ = ["MAX_PER_PAGE", "SallaApiError", "SallaClient", "SallaPage"]

log = structlog.get_logger("wosool.salla.client")

MAX_PER_PAGE = 60
"""Salla serves at most 60 records a page; a larger ``per_page`` is lowered to it."""
MAX_FAILURES = 4
"""Attempts of one request that end in a 5xx or a network error before it fails."""
BACKOFF_SECONDS = 0.5
"""The first pause after a failure; it doubles with each further one (plus jitter)."""
DEFAULT_RETRY_AFTER = 2.0
"""The pause after a 429 without Retry-After (doubling while they keep coming, up to a minute)."""
MIN_RETRY_AFTER = 0.25
"""Even a ``Retry-After: 0`` storm is not answered with a flood."""
REFRESH_AHEAD = timedelta(minutes=2)
"""A token this close to its expiry is refreshed before it is used rather than after a 401."""
_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
_NOT_PROCESSED = {502, 503, 504}
"""Statuses that say the request never reached Salla's application: safe to retry even a POST."""


class SallaApiError(Exception):
    """Salla refused a request, or kept failing: the status and Salla's error code and message, never a token."""

    def __init__(
        self, message: str, *, status: int | None = None, code: str = "", fields: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.fields: dict[str, Any] = dict(fields or {})


@dataclass(frozen=True)
class SallaPage:
    """One answer of a GET: ``data`` and Salla's pagination (one page of everything when it sends none)."""

    data: Any
    current_page: int
    total_pages: int
    total: int
    per_page: int

    @property
    def is_last(self) -> bool:
        return self.current_page >= self.total_pages


class SallaClient:
    """The Admin API of one store, for one job. Counters: ``requests`` sent, ``throttled`` (waits for the budget
    and 429s), ``rate_limited`` (429s alone), ``waited_seconds``."""

    def __init__(
        self,
        store: StoreRecord,
        settings: Settings,
        redis: Redis,
        *,
        http: httpx.AsyncClient | None = None,
        budget: RateBudget | None = None,
    ) -> None:
        self.store = store
        self._settings = settings
        self._redis = redis
        self._http = http
        self._owns_http = http is None
        self._budget = budget or RateBudget(redis, store.id, store.plan)
        self.requests = 0
        self.throttled = 0
        self.rate_limited = 0
        self.waited_seconds = 0.0

    def __repr__(self) -> str:
        return f"<SallaClient store={self.store.id} merchant={self.store.merchant_id}>"

    async def __aenter__(self) -> SallaClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> SallaPage:
        """GET ``path`` (like ``/customers``) with query ``params``; ``per_page`` is capped at 60."""
        query = dict(params or {})
        if "per_page" in query:
            query["per_page"] = max(1, min(int(query["per_page"]), MAX_PER_PAGE))
        body = await self._request("GET", path, params=query)
        return _page_of(body)

    async def post(self, path: str, json: Mapping[str, Any]) -> dict[str, Any]:
        """POST ``json`` to ``path``; Salla's ``data`` (the whole body when it has no object there)."""
        body = await self._request("POST", path, json=dict(json))
        data = body.get("data")
        return data if isinstance(data, dict) else body

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=_TIMEOUT, headers={"Accept": "application/json"})
        return self._http

    async def _request(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> dict[str, Any]:
        url = self._url(path)
        token = await self._usable_token()
        refreshed = False
        failures = 0
        storm = 0
        while True:
            reservation = await self._wait_for_slot(path)
            try:
                response = await self._client().request(
                    method, url, params=params, json=json, headers={"Authorization": f"Bearer {token}"}
                )
            except httpx.TransportError as error:
                failures += 1
                safe = method == "GET" or isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
                if not safe or failures >= MAX_FAILURES:
                    raise SallaApiError(
                        f"Salla API {method} {path} failed: {type(error).__name__} (attempt {failures})"
                    ) from None
                await self._back_off(failures)
                continue
            self.requests += 1
            await self._budget.observe(path, reservation, response.status_code, response.headers)
            status = response.status_code
            if status == 429:
                storm += 1
                await self._rate_limited(path, response, storm)
                continue
            storm = 0
            if status == 401 and not refreshed:
                token = await self._refreshed_token(token)
                refreshed = True
                continue
            if status >= 500 and (method == "GET" or status in _NOT_PROCESSED):
                failures += 1
                if failures < MAX_FAILURES:
                    await self._back_off(failures)
                    continue
            return _body_or_raise(method, path, response)

    def _url(self, path: str) -> str:
        # The token goes to Salla's API and nowhere else: refuse anything but a path.
        if not path.startswith("/") or "//" in path or "://" in path:
            raise ValueError(f"a Salla API path like '/customers' is expected, not {path!r}")
        return f"{self._settings.salla.api_url}{path}"

    async def _usable_token(self) -> str:
        token = await access_token_of(self.store, self._settings)
        expires_at = self.store.token_expires_at
        if expires_at is not None and expires_at - datetime.now(UTC) < REFRESH_AHEAD:
            token = await self._refreshed_token(token)
        return token

    async def _refreshed_token(self, used: str) -> str:
        """New tokens (or someone else's newer ones); NeedsReauthorization propagates."""
        try:
            self.store = await refresh_tokens(self.store.id, self._settings, self._redis, seen_access_token=used)
        except AccountsError as error:  # InvalidGrant is already NeedsReauthorization here
            raise SallaApiError(f"the store's tokens could not be refreshed: {error}", code="token_refresh") from None
        return await access_token_of(self.store, self._settings)

    async def _wait_for_slot(self, path: str) -> Reservation:
        reservation = await self._budget.acquire(path)
        if reservation.waited_seconds > 0:
            self.throttled += 1
            self.waited_seconds += reservation.waited_seconds
        return reservation

    async def _rate_limited(self, path: str, response: httpx.Response, storm: int) -> None:
        """Close the store's budget until Salla's Retry-After; the next reservation waits for it."""
        self.rate_limited += 1
        self.throttled += 1
        told = _retry_after(response.headers)
        pause = max(told, MIN_RETRY_AFTER) if told is not None else min(DEFAULT_RETRY_AFTER * 2 ** (storm - 1), 60.0)
        log.info("salla rate limited", store_id=str(self.store.id), path=path, retry_after=pause, in_a_row=storm)
        await self._budget.block(path, pause, response.headers)

    async def _back_off(self, failures: int) -> None:
        pause = BACKOFF_SECONDS * 2 ** (failures - 1)
        await asyncio.sleep(pause + random.uniform(0, pause / 2))  # noqa: S311 (jitter, not a secret)


def _retry_after(headers: httpx.Headers) -> float | None:
    """Retry-After in seconds (a number or an HTTP date), else the time until X-RateLimit-Reset."""
    value = headers.get("retry-after", "").strip()
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            pass
    reset = headers.get("x-ratelimit-reset", "").strip()
    try:
        moment = float(reset)
    except ValueError:
        return None
    wait = moment - datetime.now(UTC).timestamp() if moment >= 1e9 else moment
    return max(0.0, wait)


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _body_or_raise(method: str, path: str, response: httpx.Response) -> dict[str, Any]:
    status = response.status_code
    body = _json_object(response)
    if 200 <= status < 300 and body is not None:
        return body
    if 200 <= status < 300:
        raise SallaApiError(f"Salla API {method} {path} answered {status} without a JSON object", status=status)
    error = (body or {}).get("error")
    details = error if isinstance(error, Mapping) else {}
    code = str(details.get("code") or (error if isinstance(error, str) else ""))
    message = str(details.get("message") or (body or {}).get("message") or response.reason_phrase)[:300]
    fields = details.get("fields") if isinstance(details.get("fields"), Mapping) else None
    raise SallaApiError(
        f"Salla API {method} {path} answered {status}{' ' + code if code else ''}: {message}",
        status=status,
        code=code,
        fields=fields,
    )


def _page_of(body: Mapping[str, Any]) -> SallaPage:
    data = body.get("data")
    pagination = body.get("pagination")
    count = len(data) if isinstance(data, list) else 1
    if not isinstance(pagination, Mapping):
        return SallaPage(data=data, current_page=1, total_pages=1, total=count, per_page=max(count, 1))
    per_page = _int(pagination, "perPage", "per_page", default=max(count, 1))
    total = _int(pagination, "total", default=count)
    pages_default = max(1, -(-total // per_page)) if per_page else 1
    return SallaPage(
        data=data,
        current_page=_int(pagination, "currentPage", "current_page", default=1),
        total_pages=_int(pagination, "totalPages", "total_pages", default=pages_default),
        total=total,
        per_page=per_page,
    )


def _int(values: Mapping[str, Any], *names: str, default: int) -> int:
    for name in names:
        try:
            return int(values[name])
        except (KeyError, TypeError, ValueError):
            continue
    return default

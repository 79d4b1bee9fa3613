"""Typed errors raised at the connector's edge: what went wrong reading Binance, in pmdesk's terms.

python-binance's and requests' exceptions, HTTP statuses and Binance's error codes are read in
``client.from_exception`` and nowhere else; the collector sees only these types. Pure: no
python-binance import here, so ``parse`` can raise ``BadPayload`` and stay free of I/O
libraries. Each carries the ``path`` it concerns, Binance's ``code`` (when it gave one), the
HTTP ``status`` and ``message``: one line for the log and the screen, never a key, secret or
signature. The class names say what happened (the issue's names), hence no "Error" suffix.

Binance's codes: https://developers.binance.com/docs/derivatives/portfolio-margin/error-code
(-1021 timestamp outside recvWindow, -1022 invalid signature, -2014 bad API-key format, -2015
invalid key / IP / permissions) and .../portfolio-margin/general-info (HTTP 429: too many
requests, back off for ``Retry-After`` seconds; 418: the IP is banned for ``Retry-After`` seconds
after continuing past 429s; 5xx: Binance's side, the outcome unknown).
"""

from __future__ import annotations

DEFAULT_RETRY_AFTER_S = {429: 60, 418: 120}
"""When a 429 / 418 carries no readable ``Retry-After``: a safe wait (seconds)."""
AUTH_CODES = {
    -2014: "API-key format invalid",
    -2015: "invalid key, IP not allowed, or missing permission",
    -1022: "signature rejected: check the API secret",
}
CLOCK_SKEW_CODE = -1021


class ExchangeError(Exception):
    """Reading ``path`` failed in a way none of the subclasses name (an unexpected answer or
    exception): the feed is degraded."""

    def __init__(
        self, path: str | None, message: str, code: int | None = None, status: int | None = None
    ) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message
        self.code = code
        self.status = status  # HTTP status, when the exchange answered

    @property
    def refused(self) -> bool:
        """The exchange answered 4xx (not a rate limit or ban): it does not serve this to us."""
        return self.status is not None and 400 <= self.status < 500


class RateLimited(ExchangeError):  # noqa: N818
    """HTTP 429: too much weight; Binance asks for ``retry_after_s`` seconds of quiet. The time
    it ends is the caller's clock plus that: the connector does not own the collector's clock."""

    def __init__(self, path: str | None, retry_after_s: int, code: int | None = None) -> None:
        super().__init__(path, "rate limited (HTTP 429)", code, 429)
        self.retry_after_s = retry_after_s

    @property
    def refused(self) -> bool:
        return False


class Banned(ExchangeError):  # noqa: N818
    """HTTP 418: the IP is banned for ``retry_after_s`` seconds (until the caller's now plus
    that)."""

    def __init__(self, path: str | None, retry_after_s: int, code: int | None = None) -> None:
        super().__init__(path, "IP banned (HTTP 418)", code, 418)
        self.retry_after_s = retry_after_s

    @property
    def refused(self) -> bool:
        return False


class AuthRejected(ExchangeError):  # noqa: N818
    """The key, its IP restriction, its permissions or the signature were rejected
    (-2014, -2015, -1022), or pmdesk itself refuses the key (``keycheck.KeyRefusedError``)."""


class ClockSkew(ExchangeError):  # noqa: N818
    """-1021: the request's timestamp is outside Binance's recvWindow; resync the clock."""


class ExchangeDown(ExchangeError):  # noqa: N818
    """Binance's side failed (5xx), timed out or could not be reached."""


class BadPayload(ExchangeError, ValueError):  # noqa: N818
    """A payload is missing or malformed where a caller insists on it; names the path and the
    field (``problem``: what is wrong with it)."""

    def __init__(self, path: str, field: str, problem: str) -> None:
        ExchangeError.__init__(self, path, f"field {field!r}: {problem}")
        self.field = field
        self.problem = problem

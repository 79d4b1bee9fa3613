"""Team notifications through apprise (Slack, Telegram, e-mail, ntfy, webhooks, ``json://``…).

One worker thread per target URL, each with its own queue: a dead target never delays another,
and nothing here ever blocks the collector (``send`` only enqueues). A failed delivery is retried
with exponential backoff a bounded number of times; every outcome is stored with the alert under
the target's label (``json#1``): a URL may hold a token, so it is never stored or logged.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import apprise
from tenacity import RetryError, Retrying, stop_after_attempt, wait_exponential

from app.store.alerts import AlertStore, StoredDelivery

log = logging.getLogger(__name__)
logging.getLogger("apprise").setLevel(logging.ERROR)  # its lines can quote a URL


class _RedactUrls(logging.Filter):
    """apprise quotes a URL it cannot parse, or a token it finds invalid, in its ERROR lines
    ("Unparseable URL slack://xoxb-…"): every configured URL, and every piece of one that
    could be a token, is replaced by ``***`` in apprise's log records (issue 17)."""

    MIN_PIECE = 6  # shorter pieces ("json", "443", "hook") are not secrets

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: list[str] = []

    def add(self, url: str) -> None:
        rest = url.split("://", 1)[-1]
        pieces = {url, rest, unquote(rest)} | {
            p for part in re.split(r"[/:@?&=#,;]+", rest) for p in (part, unquote(part))
        }
        with self._lock:
            known = set(self._secrets)
            known.update(p for p in pieces if len(p) >= self.MIN_PIECE)
            self._secrets = sorted(known, key=len, reverse=True)  # longest first

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self._secrets
        try:
            text = record.getMessage()
        except Exception:  # a broken record: drop its arguments rather than risk them
            text = str(record.msg)
        if any(s in text for s in secrets):
            for s in secrets:
                text = text.replace(s, "***")
            record.msg, record.args = text, None
        return True


_REDACT = _RedactUrls()
logging.getLogger("apprise").addFilter(_REDACT)

DEFAULT_ATTEMPTS = 5
DEFAULT_BACKOFF_S = 1.0  # 1, 2, 4, 8 s between the attempts


@dataclass(frozen=True)
class Notice:
    alert_id: int | None  # None: the alert could not be stored (its delivery is not either)
    kind: str  # "trigger" | "clear"
    account: str
    severity: str
    title: str
    body: str


class DeliveryError(Exception):
    pass


def target_label(url: str, index: int) -> str:
    """What a target is called in the store and the log: its scheme and position, never the
    URL (tokens live in URLs)."""
    scheme = urlsplit(url).scheme.lower()
    # A token pasted without its scheme ("xoxb-1-2:…") parses as one: only a plain word shows.
    return f"{scheme if re.fullmatch(r'[a-z][a-z0-9]{0,11}', scheme) else '?'}#{index + 1}"


class _Target:
    """One notification URL, parsed once by apprise (a URL it does not know: ValueError)."""

    def __init__(self, url: str, label: str) -> None:
        self.label = label
        _REDACT.add(url)  # before apprise sees it: its errors can quote it
        self.sender = apprise.Apprise()
        if not self.sender.add(url):
            raise ValueError(f"notify_urls: target {label} is not a URL apprise knows")
        self.queue: queue.Queue[Notice | None] = queue.Queue()
        self.thread: threading.Thread | None = None


class Notifier:
    def __init__(
        self,
        urls: list[str],
        store: AlertStore | None,
        now_ms: Callable[[], int],
        attempts: int = DEFAULT_ATTEMPTS,
        backoff_s: float = DEFAULT_BACKOFF_S,
    ) -> None:
        self._targets = [_Target(url, target_label(url, i)) for i, url in enumerate(urls)]
        self._store = store
        self._now_ms = now_ms
        self._attempts = attempts
        self._backoff_s = backoff_s

    @property
    def labels(self) -> list[str]:
        return [t.label for t in self._targets]

    def start(self) -> Notifier:
        for t in self._targets:
            t.thread = threading.Thread(
                target=self._work, args=(t,), name=f"notify-{t.label}", daemon=True
            )
            t.thread.start()
        return self

    def send(self, notice: Notice) -> None:
        """Enqueue for every target; returns at once."""
        for t in self._targets:
            t.queue.put(notice)

    def stop(self, timeout_s: float = 5.0) -> None:
        for t in self._targets:
            t.queue.put(None)
        for t in self._targets:
            if t.thread is not None:
                t.thread.join(timeout_s)

    def drain(self) -> None:
        """Wait until every target has handled what was sent so far (tests, shutdown)."""
        for t in self._targets:
            t.queue.join()

    def _work(self, target: _Target) -> None:
        while True:
            notice = target.queue.get()
            try:
                if notice is None:
                    return
                self._deliver(target, notice)
            except Exception:  # a worker never dies: the next notice still goes out
                log.exception("notification to %s failed unexpectedly", target.label)
            finally:
                target.queue.task_done()

    def _deliver(self, target: _Target, notice: Notice) -> None:
        kind = (
            apprise.NotifyType.FAILURE
            if notice.severity == "critical"
            else apprise.NotifyType.WARNING
        )
        if notice.kind == "clear":
            kind = apprise.NotifyType.SUCCESS
        tries = 0
        error: str | None = None
        try:
            for attempt in Retrying(
                stop=stop_after_attempt(self._attempts),
                wait=wait_exponential(multiplier=self._backoff_s, max=30),
            ):
                with attempt:
                    tries += 1
                    sent = target.sender.notify(
                        body=notice.body, title=notice.title, notify_type=kind
                    )
                    if not sent:
                        raise DeliveryError(f"{target.label} did not accept the notification")
        except RetryError as exc:
            cause = exc.last_attempt.exception()
            error = str(cause) if cause is not None else "failed"
            log.warning(
                "alert %s (%s) not delivered to %s after %d attempts: %s",
                notice.alert_id,
                notice.kind,
                target.label,
                tries,
                error,
            )
        if self._store is not None and notice.alert_id is not None:
            try:
                self._store.record_delivery(
                    StoredDelivery(
                        notice.alert_id,
                        notice.kind,
                        target.label,
                        tries,
                        error is None,
                        error,
                        self._now_ms(),
                    )
                )
            except Exception as exc:  # the store may be full: the log says what happened
                log.error("delivery of alert %s not recorded: %s", notice.alert_id, exc)

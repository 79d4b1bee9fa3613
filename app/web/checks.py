"""Password checks off the request threads: one at a time, on a thread of its own that runs at a
lower CPU priority (nice +10; Linux sets it per thread). A check is a deliberately slow scrypt
(~100 ms of a core): this way sign-ins — a desk's own, or a guesser's before the limit — never
take CPU from the screens' requests, and hold at most two of the server's threads (the one being
checked and one waiting its turn); any further sign-in at that moment is told to retry.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
NICE = 10
MAX_WAIT_S = 30.0  # a check never takes this long; past it the sign-in is told to retry


class ChecksBusyError(Exception):
    """A check is running and another is waiting: try again in a moment."""


@dataclass
class _Job(Generic[T]):
    work: Callable[[], T]
    done: threading.Event = field(default_factory=threading.Event)
    result: T | None = None
    error: BaseException | None = None


class SlowChecks(Generic[T]):
    def __init__(self, nice: int = NICE) -> None:
        self._nice = nice
        self._jobs: queue.Queue[_Job[T]] = queue.Queue(maxsize=1)  # the one waiting its turn
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="pmdesk-password-checks", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self._nice)
        except (OSError, AttributeError):  # not Linux, or not allowed: full priority then
            log.debug("password checks run at normal priority", exc_info=True)
        while True:
            job = self._jobs.get()
            try:
                job.result = job.work()
            except BaseException as exc:  # handed to the waiting request
                job.error = exc
            finally:
                job.done.set()

    def run(self, work: Callable[[], T]) -> T:
        """``work()`` on the checks' thread; ``ChecksBusyError`` when one runs and another waits."""
        self._start()
        job: _Job[T] = _Job(work)
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            raise ChecksBusyError from None
        if not job.done.wait(MAX_WAIT_S):
            raise ChecksBusyError
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]

"""A password guesser in its own process, as an attacker's machine on the LAN would be (its
work must not count against the server's interpreter): ``python -m tests.integration.guesser
URL CLIENTS RATE``. Each client opens the sign-in form and posts wrong passwords for new names,
RATE a second (the issue measured 10 a second from one client), until standard input closes.
Prints ``started`` after the first answer, and at the end one JSON line: every status in the
order they came."""

from __future__ import annotations

import json
import re
import sys
import threading
import time

import requests


def main() -> None:
    url, clients, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    stop = threading.Event()
    statuses: list[int] = []
    lock = threading.Lock()
    first = threading.Event()

    def guess(worker: int) -> None:
        s = requests.Session()
        page = s.get(url + "login", timeout=30)
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        n = 0
        due = time.monotonic()
        while not stop.wait(max(0.0, due - time.monotonic())):  # paced, and stops at once
            due += 1.0 / rate
            data = {"name": f"guess{worker}-{n}", "password": "wrong password", "next": "/"}
            data["csrf"] = token.group(1)
            answer = s.post(url + "login", data=data, allow_redirects=False, timeout=30)
            n += 1
            with lock:
                statuses.append(answer.status_code)
            first.set()

    threads = [threading.Thread(target=guess, args=(w,), daemon=True) for w in range(clients)]
    for t in threads:
        t.start()
    first.wait(30)
    print("started", flush=True)
    sys.stdin.read()  # until the test closes it
    stop.set()
    for t in threads:
        t.join(timeout=30)
    with lock:
        print(json.dumps(statuses), flush=True)


if __name__ == "__main__":
    main()

"""The dev server under load, for real over loopback: many concurrent and
idle (slowloris) connections and a thousand rapid edits leave it responsive,
its threads bounded and its memory flat.  Every wait is bounded."""
from __future__ import annotations

import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from site_gen.serve.web import MAX_HANDLERS

from test_serve import SITE_YAML, Server


def threads_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def timed_get(url: str, timeout: float = 5.0) -> float:
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        response.read()
        assert response.status == 200
    return time.monotonic() - started


@pytest.fixture
def live(make_site):
    site = make_site({"site.yaml": SITE_YAML}, with_seed=True)
    server = Server(site)
    server.site = site
    try:
        yield server
    finally:
        server.kill()


def test_listens_on_loopback_only(live):
    assert live.url.startswith("http://127.0.0.1:")


def _open_idle(host: str, port: int, count: int) -> list[socket.socket]:
    idle = []
    for index in range(count):
        sock = socket.create_connection((host, port), timeout=5)
        if index % 2:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # never finishes the request
        idle.append(sock)
    return idle


def test_idle_connections_do_not_stop_the_server(live):
    host, port = live.url.split("//")[1].rstrip("/").split(":")
    idle = _open_idle(host, int(port), 150)
    try:
        assert timed_get(live.url, timeout=10) < 3
    finally:
        for sock in idle:
            sock.close()


def test_200_connections_then_responsive_with_bounded_threads(live):
    host, port = live.url.split("//")[1].rstrip("/").split(":")
    pid = live.proc.pid
    before = threads_of(pid)
    errors: list[BaseException] = []

    def fetch():
        try:
            timed_get(live.url + "2022/liangshan-xiang/", timeout=40)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    idle = _open_idle(host, int(port), 20)
    workers = [threading.Thread(target=fetch) for _ in range(180)]
    for worker in workers:
        worker.start()
    peak = threads_of(pid)
    for worker in workers:
        worker.join(timeout=60)
    for sock in idle:
        sock.close()
    assert not errors and not any(w.is_alive() for w in workers)
    assert peak <= before + MAX_HANDLERS + 5  # threads stay bounded by the handler cap
    deadline = time.monotonic() + 40
    while threads_of(pid) > before + 5 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert threads_of(pid) <= before + 5
    assert timed_get(live.url) < 3


def test_a_thousand_rapid_edits_leave_it_responsive_and_memory_flat(live):
    source = live.site / "content" / "2022" / "liangshan-xiang.md"
    text = source.read_text("utf-8")
    pid = live.proc.pid
    live.wait_for(lambda s: s.get("epoch", 0) >= 1, timeout=20)
    timed_get(live.url)
    start_rss = rss_kb(pid)
    for index in range(1000):
        source.write_text(text.replace("在縣委", f"在縣委{index}", 1), "utf-8")
    final = "在縣委999"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with urllib.request.urlopen(live.url + "2022/liangshan-xiang/", timeout=10) as response:
            if final in response.read().decode("utf-8"):
                break
        time.sleep(0.2)
    else:
        raise AssertionError("the last edit never showed")
    assert timed_get(live.url) < 3
    assert threads_of(pid) < 40
    assert rss_kb(pid) < start_rss + 100_000  # kB: no growth per edit

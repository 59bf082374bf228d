"""What a login POST costs, and how much of it is the password hash (issue 11 item 18).

    .venv/bin/python bench/login.py [--runs 8]

Prints, for a successful login: the password hash alone (PBKDF2 at Django's iterations), the POST
through Django's test client with its SQL queries, and the POST to a real gunicorn started as
bin/run starts it (2 workers, 4 threads), with the page it redirects to. Then a wrong password and
an unknown username through the test client. Exits 0.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

from _django import ROOT, setup

USER, PASSWORD = "bench", "bench-password-Long1"
PORT = 8769


def ms(seconds: list[float]) -> str:
    return f"median {statistics.median(seconds) * 1000:6.0f} ms, fastest {min(seconds) * 1000:6.0f} ms"


def hash_alone(runs: int) -> list[float]:
    from django.contrib.auth.hashers import get_hasher

    hasher, times = get_hasher(), []
    for _ in range(runs):
        t = time.perf_counter()
        hasher.encode(PASSWORD, hasher.salt())
        times.append(time.perf_counter() - t)
    print(f"{hasher.algorithm} ({getattr(hasher, 'iterations', '?')} iterations) alone:  {ms(times)}")
    return times


def test_client(runs: int, password: str, username: str = USER) -> tuple[list[float], int]:
    """Median-able times of the POST, and the SQL queries of the last one."""
    from django.db import connection
    from django.test import Client

    times, queries = [], 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    from regui.audit.models import LoginThrottle

    for _ in range(runs):
        LoginThrottle.objects.all().delete()  # wrong passwords would lock the name after a few runs
        client = Client(REMOTE_ADDR="10.9.0.1", HTTP_HOST="127.0.0.1")
        queries = 0
        with connection.execute_wrapper(count):
            t = time.perf_counter()
            client.post("/login/", {"username": username, "password": password})
            times.append(time.perf_counter() - t)
    return times, queries


def real_server(runs: int) -> None:
    env = {**os.environ, "REGUI_ALLOWED_HOSTS": "127.0.0.1"}
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "regui.wsgi:application", "--bind", f"127.0.0.1:{PORT}",
         "--workers", "2", "--threads", "4", "--log-level", "warning"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{PORT}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        posts, pages = [], []
        for _ in range(runs):
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect)
            form = opener.open(base + "/login/").read().decode()
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1]
            body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": USER, "password": PASSWORD})
            t = time.perf_counter()
            try:
                opener.open(urllib.request.Request(base + "/login/", data=body.encode()))
            except urllib.error.HTTPError as e:  # the 302 (redirects are not followed here)
                assert e.code == 302, e.code
            posts.append(time.perf_counter() - t)
            t = time.perf_counter()
            opener.open(base + "/").read()
            pages.append(time.perf_counter() - t)
        print(f"gunicorn POST /login/:           {ms(posts)}")
        print(f"gunicorn GET / after it:         {ms(pages)}")
    finally:
        server.terminate()
        server.wait(10)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=8)
    runs = parser.parse_args().runs
    setup()
    from django.contrib.auth.models import User

    from regui.core.services import user_set_role

    user_set_role(user=User.objects.create_user(USER, password=PASSWORD), role="admin")
    hashed = hash_alone(runs)
    times, queries = test_client(runs, PASSWORD)
    print(f"test client POST, right password: {ms(times)}, {queries} SQL queries; "
          f"{(statistics.median(times) - statistics.median(hashed)) * 1000:.0f} ms besides the hash")
    times, queries = test_client(runs, "wrong")
    print(f"test client POST, wrong password: {ms(times)}, {queries} SQL queries")
    times, queries = test_client(runs, "wrong", username="nobody")
    print(f"test client POST, unknown user:   {ms(times)}, {queries} SQL queries")
    real_server(runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())

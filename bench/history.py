"""The History page with 100,000 entries.

Prints the first page's time and SQL query count next to an empty history measured in the same run,
plus filtered, deeper and htmx pages and a filtered CSV export. Targets: the query count constant (the
same with 0 and 100,000 entries) and the first page under 10x the empty page's time.
"""

from __future__ import annotations

import random
import sys
import time
from contextlib import contextmanager
from datetime import timedelta

from _django import best as _best
from _django import logged_in, setup

ENTRIES = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
BATCH = 5_000
RUNS = 15


def best(fn, runs: int = RUNS) -> tuple[float, float]:
    return _best(fn, runs)


@contextmanager
def stamped_by_hand():
    """`time` is auto_now_add; spreading entries over a year needs it off while the bench inserts."""
    from regui.audit.models import AuditEvent

    field = AuditEvent._meta.get_field("time")
    field.auto_now_add = False
    try:
        yield
    finally:
        field.auto_now_add = True


def fill(n: int, clusters: list) -> None:
    from django.utils import timezone

    from regui.audit.models import AuditEvent

    rng = random.Random(7)
    users = [f"user{i}" for i in range(20)] + [""]
    kinds = [("mirror", "update"), ("mirror", "create"), ("registry_config", "update"), ("node", "push_result"),
             ("push_job", "push"), ("secret", "update"), ("user", "login"), ("cluster", "update")]
    now = timezone.now()
    span = timedelta(days=365).total_seconds()
    with stamped_by_hand():
        for start in range(0, n, BATCH):
            rows = []
            for i in range(start, min(n, start + BATCH)):
                otype, action = rng.choice(kinds)
                cluster = rng.choice(clusters)
                rows.append(AuditEvent(
                    time=now - timedelta(seconds=span * (n - i) / n), actor_name=rng.choice(users),
                    request_id=f"{i:08x}-0000-4000-8000-000000000000", action=action, object_type=otype,
                    object_id=str(i), object_repr=f"registry{i % 500}.example.com", cluster_id_ref=cluster.pk,
                    cluster_name=cluster.name, node_id_ref=i % 50 if otype == "node" else None,
                    revision=i % 300 or None, changes={"endpoints": [[f"https://a{i}.example.com"],
                                                                     [f"https://b{i}.example.com"]]},
                    message="bench entry"))
            AuditEvent.objects.bulk_create(rows)


def measure(client, url: str, **headers) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as q:
        r = client.get(url, **headers)
    # Counted now: later requests clear the connection's query log the slice reads.
    queries = len(q.captured_queries)
    assert r.status_code == 200, (url, r.status_code)
    fastest, median = best(lambda: client.get(url, **headers))
    return fastest, median, queries, r.content.count(b'class="entry"')


def main() -> None:
    setup()
    from django.db import connection
    from django.utils import timezone

    from regui.audit.models import AuditEvent
    from regui.registries.models import Cluster

    # CaptureQueriesContext keeps Django from clearing the query log at the request's start.
    _, client = logged_in("viewer")
    clusters = [Cluster.objects.create(name=f"c{i}") for i in range(10)]
    # Setting the role left an entry: the empty measurement starts from none at all.
    AuditEvent.objects.prune_before(timezone.now() + timedelta(days=1))
    assert not AuditEvent.objects.exists()

    empty = measure(client, "/history/")
    empty_filtered = measure(client, "/history/?cluster=c3&action=update")

    t = time.perf_counter()
    fill(ENTRIES, clusters)
    inserted = time.perf_counter() - t
    assert AuditEvent.objects.count() == ENTRIES
    full = measure(client, "/history/")
    html = client.get("/history/").content.decode()
    older = html.split('id="history-older"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    month_ago = (timezone.localdate() - timedelta(days=30)).isoformat()
    cases = [
        ("first page, htmx part", "/history/", {"HTTP_HX_REQUEST": "true"}),
        ("second page (keyset)", older, {}),
        ("cluster=c3", "/history/?cluster=c3", {}),
        ("cluster=c3&action=update", "/history/?cluster=c3&action=update", {}),
        ("user=user5&object_type=node", "/history/?user=user5&object_type=node", {}),
        (f"date_from={month_ago}", f"/history/?date_from={month_ago}", {}),
        ("cluster tab c3", "/clusters/c3/history/", {}),
        ("rare: request_id", "/history/?request_id=00000010-0000-4000-8000-000000000000", {}),
    ]

    print(f"History page, SQLite, {ENTRIES:,} entries (inserted in {inserted:.1f} s); best / median of {RUNS}:")
    row = "  {:<34} best {:7.1f} ms  median {:7.1f} ms  queries {:2d}  rows {:3d}"
    print(row.format("empty history, first page", empty[0] * 1000, empty[1] * 1000, empty[2], empty[3]))
    print(row.format("empty history, filtered", empty_filtered[0] * 1000, empty_filtered[1] * 1000,
                     empty_filtered[2], empty_filtered[3]))
    print(row.format(f"{ENTRIES:,} entries, first page", full[0] * 1000, full[1] * 1000, full[2], full[3]))
    for label, url, headers in cases:
        m = measure(client, url, **headers)
        print(row.format(label, m[0] * 1000, m[1] * 1000, m[2], m[3]))

    t = time.perf_counter()
    r = client.get("/history/export.csv?cluster=c3&action=update")
    lines = sum(chunk.count(b"\n") for chunk in r.streaming_content)
    print(f"  CSV export cluster=c3&action=update: {lines - 1:,} rows in {(time.perf_counter() - t) * 1000:.0f} ms")

    with connection.cursor() as cur:
        sql, params = AuditEvent.objects.order_by("-time", "-id")[:51].query.sql_with_params()
        cur.execute("EXPLAIN QUERY PLAN " + sql, params)
        print("  first page plan:", "; ".join(str(r[-1]) for r in cur.fetchall()))

    ratio = full[0] / empty[0]
    print(f"  ratio first page / empty page = {ratio:.2f}  (target < 10)")
    print(f"  query count: empty {empty[2]}, {ENTRIES:,} entries {full[2]}  "
          f"({'equal' if empty[2] == full[2] else 'DIFFERENT'}; target: equal)")


if __name__ == "__main__":
    main()

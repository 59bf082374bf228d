"""The node list of a cluster with 2,000 nodes, next to one with 20 nodes, measured in the same run.

Both clusters have the same registries (mirrors, an auth secret, a TLS key pair: the page renders the
file to tell which nodes are in sync), every node has labels and a history of pushes (the page shows
each node's last result), and a few nodes are in a running push (their rows poll). Prints the first
page's time and SQL query count for each, filtered pages and a deep page of the big one, and the
ratio big / small. Targets: the big cluster's first page under 200 ms, the ratio under 3, and the
query count the same for both.

Run: .venv/bin/python bench/node_list.py [big] [small]
"""

from __future__ import annotations

import hashlib
import sys

from _django import best, logged_in, setup

BIG = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000
SMALL = int(sys.argv[2]) if len(sys.argv) > 2 else 20
PUSHES = 5  # past pushes per node
RUNS = 15
TARGET_MS, TARGET_RATIO = 200, 3.0

YAML = """mirrors:
  docker.io:
    endpoint: ["https://mirror.example.com:5000", "https://backup.example.com"]
    rewrite: {"^library/(.*)": "mirrored/$1"}
  quay.io:
    endpoint: ["https://quay-mirror.example.com"]
configs:
  "mirror.example.com:5000":
    auth: {username: robot, password: "bench-secret-7Q"}
"""


def build(name: str, n: int, user) -> None:
    from django.utils import timezone

    from regui.inventory.models import Node
    from regui.pushes.models import PushJob, PushResult
    from regui.registries.importing import registries_import
    from regui.registries.models import Cluster, RegistryConfig
    from regui.registries.selectors import cluster_render, cluster_sync_key
    from regui.registries.services import SecretInput, secret_save
    from tests.certs import key_and_cert

    cluster = Cluster.objects.create(name=name, distro="k3s")
    registries_import(cluster=cluster, text=YAML, replace=True)
    key, cert = key_and_cert("mirror.example.com")
    tls = secret_save(data=SecretInput(name=f"{name}-client", kind="tls", certificate=cert, private_key=key,
                                       cluster=cluster))
    RegistryConfig.objects.filter(cluster=cluster).update(tls_secret=tls, ca_bundle=cert)
    # Of every 9 nodes: 6 in sync, one drifted, one unreachable, one never pushed.
    states = [Node.Sync.IN_SYNC] * 6 + [Node.Sync.DRIFTED, Node.Sync.UNREACHABLE, Node.Sync.NEVER]
    # In sync: regui wrote the current render's sync key there (its bytes and secret value identities).
    current = cluster_sync_key(cluster)
    sha = hashlib.sha256(cluster_render(cluster, reveal=True).encode()).hexdigest()
    nodes = [Node(cluster=cluster, name=f"node-{i:05d}", address=f"10.{i // 65536}.{i // 256 % 256}.{i % 256}",
                  role="server" if i < 3 else "agent", labels={"zone": "abc"[i % 3], "rack": f"r{i % 40}"},
                  sync_state=states[i % len(states)], last_sha256="" if i % 9 == 8 else sha,
                  last_sync_key="" if i % 9 == 8 else current,
                  host_key="AAAA", host_key_type="ssh-ed25519", host_key_fingerprint="SHA256:bench",
                  host_key_approved_at=timezone.now())
             for i in range(n)]
    Node.objects.bulk_create(nodes, batch_size=500)
    nodes = list(cluster.nodes.all())
    for p in range(PUSHES):
        running = p == PUSHES - 1
        job = PushJob.objects.create(cluster=cluster, created_by=user,
                                     status=PushJob.Status.RUNNING if running else PushJob.Status.DONE)
        PushResult.objects.bulk_create(
            [PushResult(job=job, node=node, node_name=node.name, role=node.role,
                        status=(PushResult.Status.RUNNING if running and i % 100 == 0 else
                                PushResult.Status.FAILED if i % 50 == 7 else PushResult.Status.UNCHANGED),
                        message="already up to date: nothing written, no restart")
             for i, node in enumerate(nodes) if not running or i % 100 == 0], batch_size=500)


def measure(client, url: str) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as q:
        r = client.get(url)
    queries = len(q.captured_queries)  # counted now: later requests clear the connection's query log
    assert r.status_code == 200, (url, r.status_code)
    fastest, median = best(lambda: client.get(url), RUNS)
    return fastest, median, queries, r.content.count(b'class="node-row"')


def main() -> None:
    setup()
    user, client = logged_in("operator")
    build("small", SMALL, user)
    build("big", BIG, user)

    small = measure(client, "/clusters/small/nodes/")
    big = measure(client, "/clusters/big/nodes/")
    print(f"Node list, SQLite; best / median of {RUNS}:")
    row = "  {:<44} best {:7.1f} ms  median {:7.1f} ms  queries {:2d}  rows {:4d}"
    print(row.format(f"{SMALL} nodes, first page", small[0] * 1000, small[1] * 1000, small[2], small[3]))
    print(row.format(f"{BIG:,} nodes, first page", big[0] * 1000, big[1] * 1000, big[2], big[3]))
    for label, query in [("role=server", "role=server"), ("sync=drifted", "sync=drifted"),
                         ("label zone=b", "label=zone%3Db"), ("label rack (key only)", "label=rack"),
                         ("name contains 01", "name=01"), ("deep page (page=30)", "page=30"),
                         ("sync=in_sync&label=zone=a&page=5", "sync=in_sync&label=zone%3Da&page=5")]:
        m = measure(client, f"/clusters/big/nodes/?{query}")
        print(row.format(f"{BIG:,} nodes, {label}", m[0] * 1000, m[1] * 1000, m[2], m[3]))
    ratio = big[0] / small[0]
    verdict = "PASS" if big[0] * 1000 < TARGET_MS and ratio < TARGET_RATIO and big[2] == small[2] else "FAIL"
    print(f"  first page {BIG:,} nodes: {big[0] * 1000:.1f} ms (target < {TARGET_MS} ms); "
          f"ratio {BIG:,} / {SMALL} nodes = {ratio:.2f} (target < {TARGET_RATIO:g}); "
          f"queries {small[2]} and {big[2]} ({'equal' if small[2] == big[2] else 'DIFFERENT'})  {verdict}")


if __name__ == "__main__":
    main()

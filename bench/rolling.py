"""Wall time of a rolling restart through the real path, next to the policy's ideal, same run.

    .venv/bin/python bench/rolling.py                 # quick: 3 servers + 12 agents, 4 at once, R = 1 s
    .venv/bin/python bench/rolling.py --nodes 100     # the issue's figure: 3 servers + 97 agents, 10 at once
    .venv/bin/python bench/rolling.py --nodes 100 --workers 2 --production

Needs root (harness nodes are network namespaces with their own sshd). Each node's fake systemctl sleeps
R seconds on `restart` (RESTART_SECONDS); S servers + A agents are registered with approved host keys;
real Celery workers (pool = core count) run the pushes. Every timed push writes a changed file, so every
node restarts: servers one at a time, then the agents in batches of B. The policy's ideal is what the
restarts alone take, S·R + ceil(A/B)·R; the target is the best run within 10% of it (median shown too).
Per step, the overhead (SSH, the node program, the database, the next task) is what is left.
Everything it started is torn down, also on failure and Ctrl-C.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from _django import harness_main

YAML = ('mirrors:\n  docker.io:\n    endpoint: ["https://mirror-{i}.example.com:5000"]\n'
        'configs:\n  "mirror-{i}.example.com:5000":\n    auth: {{username: robot, password: "bench-secret-{i}"}}\n')
TARGET = 1.10


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Rolling:
    def __init__(self, args, data: Path, stack: ExitStack) -> None:
        self.args, self.data, self.stack, self.variant = args, data, stack, 0
        self.servers = min(args.servers, args.nodes)
        self.agents = args.nodes - self.servers
        self.walls: list[float] = []
        self.bares: list[float] = []
        self.profiles: list[dict] = []

    def start(self) -> None:
        from django.conf import settings

        from regui.registries.models import Cluster
        from tests.harness.nodes import Harness
        from tests.procs import app_env, celery_worker

        self.cluster = Cluster.objects.create(name="bench", distro="k3s")
        self.change_render()
        log(f"starting {self.args.nodes} harness nodes (restart takes {self.args.restart} s)")
        self.harness = Harness.create(self.args.nodes, sudo=False, timeout=120)
        self.stack.callback(self.harness.destroy)
        for hn in self.harness.nodes:
            hn.set_systemctl(restart_seconds=self.args.restart)
        self.register()
        db = os.environ.get("DATABASE_URL") or f"sqlite:///{settings.DATABASES['default']['NAME']}"
        extra = {k: os.environ[k] for k in ("CELERY_BROKER_URL", "REGUI_CELERY_QUEUE") if k in os.environ}
        # No read-back after a push: a task of its own, it would read 100 nodes over SSH during the next
        # bare roll, and make regui / bare look better than it is.
        env = app_env(self.data, DATABASE_URL=db, REGUI_RESTART_WAIT="30", REGUI_READBACK_AFTER_PUSH="0", **extra)
        self.cores = os.cpu_count() or 2
        self.logs = []
        for i in range(self.args.workers):
            path = self.data / f"worker{i + 1}.log"
            self.logs.append(path)
            log(f"starting celery worker {i + 1} (--concurrency={self.cores})")
            self.stack.enter_context(celery_worker(env, path, concurrency=self.cores,
                                                   flags=("--without-gossip", "--without-mingle",
                                                          "--without-heartbeat", "-n", f"bench{i + 1}@%h")))

    def register(self) -> None:
        from django.utils import timezone

        from regui.inventory.models import Node

        h, now, rows = self.harness, timezone.now(), []
        for i, hn in enumerate(h.nodes):
            node = Node(cluster=self.cluster, name=f"{'s' if i < self.servers else 'a'}{i:03}-{h.id}",
                        address=hn.address, port=hn.port,
                        role=Node.Role.SERVER if i < self.servers else Node.Role.AGENT, ssh_user=h.user,
                        credential_kind=Node.Credential.KEY, host_key_type=hn.host_key_type,
                        host_key=hn.host_key_public, host_key_fingerprint=hn.host_key_fingerprint,
                        host_key_approved_at=now, host_key_approved_by="bench")
            node.seal_credential(h.client_private_key_pem)
            rows.append(node)
        Node.objects.bulk_create(rows)

    def change_render(self) -> None:
        from regui.registries.importing import registries_import

        self.variant += 1
        registries_import(cluster=self.cluster, text=YAML.format(i=self.variant), replace=True)
        self.cluster.refresh_from_db()

    def push(self, restart: bool = True):
        from django.db import connection

        from regui.pushes.models import PushJob
        from regui.pushes.services import effective_policy, push_job_create

        self.change_render()
        policy = effective_policy(self.cluster, {"agents_at_once": self.args.at_once})
        start = time.time()  # the job's finished_at ends the span: the worker's clock is this machine's
        job = push_job_create(cluster=self.cluster, restart=restart, policy=policy)
        sql = f"SELECT status FROM {PushJob._meta.db_table} WHERE id = %s"
        deadline = time.monotonic() + 60 + 4 * self.ideal()
        with connection.cursor() as cursor:
            while True:
                cursor.execute(sql, [job.pk])
                if cursor.fetchone()[0] not in ("queued", "running"):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"job {job.pk} not done in time:\n{self.tail()}")
                time.sleep(0.02)
        job.refresh_from_db()
        wall = job.finished_at.timestamp() - start
        results = list(job.results.all())
        bad = [r for r in results if r.status != "changed" or (restart and not r.restarted)]
        if job.status != "done" or bad:
            raise RuntimeError(f"job {job.pk} {job.status} {job.message}; {len(bad)} node(s) not changed: "
                               f"{[(r.node_name, r.status, r.message) for r in bad[:3]]}\n{self.tail()}")
        return wall, job, results

    def bare(self) -> float:
        """The same roll from plain threads, no Celery, no database: per step, each node of the batch
        connects, logs in and runs regui's own program (write, restart, is-active), at once; then the next
        step. What the nodes themselves cost on this machine (the harness nodes share its CPUs)."""
        from concurrent.futures import ThreadPoolExecutor

        from _push_helpers import targets

        from regui.pushes.files import cluster_files
        from regui.remote import ssh
        from regui.remote.report import parse_report
        from regui.remote.script import push_program

        self.change_render()
        files = cluster_files(self.cluster)
        by_address = dict(zip([hn.address for hn in self.harness.nodes], targets(self.harness), strict=True))
        order = self.harness.nodes[:self.servers], self.harness.nodes[self.servers:]
        batch = self.batch()
        steps = [[s] for s in order[0]] + [order[1][i:i + batch] for i in range(0, len(order[1]), batch)]

        def one(hn, service: str) -> None:
            program = push_program(files, mode="push", service=service, restart=True, wait_seconds=30)
            transport = ssh.connect(by_address[hn.address], timeout=10, retries=1)
            try:
                out = ssh.run(transport, "sh -s", program.encode(), timeout=60)
            finally:
                transport.close()
            if parse_report(out.stdout).result != "changed" or out.status:
                raise RuntimeError(f"bare roll: {hn.name}: {out.stdout[-300:]} {out.stderr[-300:]}")

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=max(len(s) for s in steps)) as pool:
            for i, step in enumerate(steps):
                service = "k3s" if i < self.servers else "k3s-agent"
                list(pool.map(lambda hn, service=service: one(hn, service), step))
        return time.perf_counter() - start

    def ideal(self) -> float:
        batch = self.batch()
        return (self.servers + math.ceil(self.agents / batch)) * self.args.restart

    def batch(self) -> int:
        from regui.pushes.plan import batch_size

        return batch_size(self.args.at_once, self.agents)

    def run(self) -> None:
        bare = self.bare()
        self.bares.append(bare)
        log(f"bare roll    {bare:6.2f} s  (plain threads, the same steps)")
        wall, job, results = self.push()
        self.walls.append(wall)
        self.profiles.append({**profile(job, results), **self.around_restarts(results)})
        log(f"rolling push {wall:6.2f} s  (ideal {self.ideal():.2f} s, job {job.pk}, "
            f"{len({r.step for r in results})} steps, workers {sorted({c.worker.split('@')[0] for c in job.chunks.all()})})")

    def around_restarts(self, results) -> dict:
        """Median seconds per node from its start (locked, SSH next) to its restart, and from the restart's
        end to its result (from the node's own systemctl log: same machine, same clock)."""
        before, after = [], []
        for r in results:
            hn = self.harness.nodes[int(r.node_name[1:4])]
            restart = [x for x in hn.restarts() if x.start >= r.started_at.timestamp() - 1][-1]
            before.append(restart.start - r.started_at.timestamp())
            after.append(r.finished_at.timestamp() - restart.end)
        return {"before": statistics.median(before), "after": statistics.median(after)}

    def tail(self) -> str:
        return "".join(f"--- {p.name} ---\n{p.read_text()[-2000:]}" for p in self.logs if p.exists())

    def report(self) -> None:
        ideal, best, median = self.ideal(), min(self.walls), statistics.median(self.walls)
        steps = self.servers + math.ceil(self.agents / self.batch())
        p = self.profiles[self.walls.index(best)]
        print()
        print(f"rolling restart of {self.servers} servers + {self.agents} agents, {self.args.at_once} agents at once "
              f"(batch {self.batch()}), restart R = {self.args.restart} s, {self.args.workers} worker(s) "
              f"x {self.cores} processes, database: {db_description()}")
        print(f"ideal (S·R + ceil(A/B)·R) = {ideal:.2f} s over {steps} steps")
        print(f"wall: best {best:.2f} s, median {median:.2f} s, runs {' '.join(f'{w:.2f}' for w in self.walls)}")
        print(f"best run, from the job's timestamps: created->first node {p['pickup']:.3f} s, steps' own spans "
              f"{p['steps']:.2f} s, between steps {p['gaps']:.2f} s ({p['gaps'] / max(1, steps - 1) * 1000:.0f} ms "
              f"each), last node->job done {p['tail']:.3f} s")
        print(f"per node (median): start -> its restart {p['before'] * 1000:.0f} ms (lock, SSH, the program's "
              f"writes), restart end -> result {p['after'] * 1000:.0f} ms (is-active, the report, the write)")
        print(f"per step beyond R: {(best - ideal) / steps * 1000:.0f} ms (best), "
              f"{(median - ideal) / steps * 1000:.0f} ms (median)")
        bare = min(self.bares)
        print(f"bare roll (the nodes' own share on this machine): best {bare:.2f} s = {bare / ideal:.3f} x ideal; "
              f"regui / bare = {best / bare:.3f} best, {median / statistics.median(self.bares):.3f} median")
        ratio, med = best / ideal, median / ideal
        ok = ratio <= TARGET
        print(f"wall / ideal = {ratio:.3f} best, {med:.3f} median  (target <= {TARGET})  {'PASS' if ok else 'FAIL'}")


def profile(job, results) -> dict:
    """Where the time went: pickup, the steps' own spans, the gaps between steps, the tail (seconds)."""
    by_step: dict[int, list] = {}
    for r in results:
        by_step.setdefault(r.step, []).append(r)
    spans = [(min(r.started_at for r in rs), max(r.finished_at for r in rs)) for _, rs in sorted(by_step.items())]
    gaps = sum((b[0] - a[1]).total_seconds() for a, b in zip(spans, spans[1:], strict=False))
    return {"pickup": (spans[0][0] - job.created_at).total_seconds(),
            "steps": sum((e - s).total_seconds() for s, e in spans), "gaps": gaps,
            "tail": (job.finished_at - spans[-1][1]).total_seconds()}


def db_description() -> str:
    from django.conf import settings
    from django.db import connection

    return f"{connection.vendor}, broker {settings.CELERY_BROKER_URL.split('://')[0]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=15, help="servers + agents (default 15; the issue's: 100)")
    parser.add_argument("--servers", type=int, default=3)
    parser.add_argument("--at-once", default="", help="agents at once, a number or a percentage "
                                                      "(default 4, or 10 from 50 nodes on)")
    parser.add_argument("--restart", type=float, default=1.0, help="seconds each restart takes (R)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="Celery workers sharing the jobs")
    parser.add_argument("--keep", action="store_true", help="keep the data dir (database, worker logs)")
    parser.add_argument("--production", action="store_true",
                        help="PostgreSQL + Redis (REGUI_BENCH_DATABASE_URL / REGUI_BENCH_BROKER_URL, or this machine's)")
    args = parser.parse_args()
    args.at_once = args.at_once or ("10" if args.nodes >= 50 else "4")

    def run(data: Path, stack: ExitStack) -> None:
        bench = Rolling(args, data, stack)
        bench.start()
        # The baselines run in this process: frozen, its heap (Django, the harness) is not walked by a full
        # garbage collection in the middle of a timed run, as in the worker (regui/celery.py).
        gc.freeze()
        log("warm-up push (write only, not timed: first tasks in fresh worker processes)")
        bench.push(restart=False)
        for _ in range(args.runs):
            bench.run()
        bench.report()

    return harness_main("bench/rolling.py", args, run)


if __name__ == "__main__":
    sys.exit(main())

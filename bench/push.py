"""Wall time of a cluster push through the real path, next to two baselines on the same nodes, same run.

    .venv/bin/python bench/push.py [--nodes 30] [--runs 5] [--workers 1] [--stock-sshd] [--no-ansible]
                                   [--no-restart] [--keep]
                                   [--production]

Needs root (harness nodes are network namespaces with their own sshd). Boots Django on a throw-away
SQLite database with the filesystem broker (or, with --production, a throw-away PostgreSQL database
and Redis: REGUI_BENCH_DATABASE_URL / REGUI_BENCH_BROKER_URL, default this machine's), starts a real Celery worker (pool = core count, so the
pool size visibly does not cap per-node parallelism; REGUI_PUSH_CONCURRENCY = node count), starts the
nodes and registers them as agents with approved host keys. --stock-sshd: the nodes' sshd opens each
session as a stock Debian sshd does (UsePAM yes with Debian's pam.d/sshd, pam_motd running update-motd.d;
tests/harness/_base.py), instead of the harness's bare `UsePAM no`: run both and report both. Every timed run pushes a *changed* file
(the cluster is re-imported with another endpoint first), so every node writes.

Rows:
  floor     connect + authenticate + one exec of `true` per node, all nodes at once (plain threads)
  bare      regui's remote program over that same one exec, from plain threads: no Celery, no database
  regui     push_job_create -> job done (polled in the database): worker, database, results, write only
  restart   as regui, 3 servers (one at a time) + agents, restart on (the fake systemctl is instant)
  ansible   ansible-core `copy` module, forks = node count, OpenSSH without ControlMaster (one run)
  2 jobs    (--workers 2 or more) two jobs at once, each to half of the nodes, as two clusters' pushes
            would go: beside `regui` (one job to all), it shows jobs do not wait for each other
  shared    (--workers 2 or more) one job to all nodes, its step split into one chunk per worker
            (REGUI_PUSH_CHUNK = nodes / workers, rounded up): the report says each worker ran one

Every regui push goes with every agent at once ("100%"); its step is split into chunks (tasks) of at
most REGUI_PUSH_CHUNK nodes (50), which the workers share: the report says which worker ran what.

regui / floor is judged on both the best runs and the medians (the runs are interleaved, so drift
on the machine hits every row alike); beside them, the paired ratio regui_i / floor_i of each run's
floor and regui, measured back to back (median and best; bench/push_report.py). Targets: regui <= 1.3 x
floor, ansible >= 10 x regui. Prints PASS/FAIL; exits 0 either way, 1 when something broke (130 on
Ctrl-C). Everything it started is torn down, also on failure and Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from _django import harness_main
from _push_helpers import ANSIBLE_CORE, ansible_copy, ansible_venv, bare_push, floor, targets
from push_report import chunk_spread, ended, job_profile, report

YAML = ('mirrors:\n  docker.io:\n    endpoint: ["https://mirror-{i}.example.com:5000"]\n'
        'configs:\n  "mirror-{i}.example.com:5000":\n    auth: {{username: robot, password: "bench-secret-{i}"}}\n')
POLL = 0.02  # seconds between job-status reads: the span itself comes from the job's finished_at (see `ended`)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Bench:
    def __init__(self, args, data: Path, stack: ExitStack) -> None:
        self.args, self.data, self.stack = args, data, stack
        self.variant = 0
        self.rows: dict[str, list[dict]] = {}

    # --- setup ---------------------------------------------------------------------------------------

    def start(self) -> None:
        from django.conf import settings

        from regui.registries.models import Cluster
        from tests.harness.nodes import Harness
        from tests.procs import app_env, celery_worker

        n = self.args.nodes
        self.cluster = Cluster.objects.create(name="bench", distro="k3s")
        self.change_render()
        log(f"starting {n} harness nodes")
        self.harness = Harness.create(n, sudo=False, timeout=60 + n, stock_sshd=self.args.stock_sshd)
        self.stack.callback(self.harness.destroy)
        self.register_nodes()
        db = os.environ.get("DATABASE_URL") or f"sqlite:///{settings.DATABASES['default']['NAME']}"
        cores = os.cpu_count() or 2
        extra = {k: os.environ[k] for k in ("CELERY_BROKER_URL", "REGUI_CELERY_QUEUE") if k in os.environ}
        # No read-back after a push: a task of its own, it would still run (100 nodes' rows, or SSH after a
        # restart) during the next row's measurement.
        env = app_env(self.data, DATABASE_URL=db, REGUI_PUSH_CONCURRENCY=str(n), REGUI_READBACK_AFTER_PUSH="0",
                      **extra)
        self.worker_logs = [self.data / f"worker{i + 1}.log" for i in range(self.args.workers)]
        for i, path in enumerate(self.worker_logs):
            log(f"starting celery worker {i + 1} of {self.args.workers} (--concurrency={cores})")
            self.stack.enter_context(celery_worker(env, path, concurrency=cores, flags=(
                "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"bench{i + 1}@%h")))
        self.cores = cores
        self.targets = targets(self.harness)

    def register_nodes(self) -> None:
        from django.utils import timezone

        from regui.inventory.models import Node

        h, now = self.harness, timezone.now()
        rows = []
        for hn in h.nodes:
            node = Node(cluster=self.cluster, name=f"{hn.name}-{h.id}", address=hn.address, port=hn.port,
                        role=Node.Role.AGENT, ssh_user=h.user, credential_kind=Node.Credential.KEY,
                        host_key_type=hn.host_key_type, host_key=hn.host_key_public,
                        host_key_fingerprint=hn.host_key_fingerprint, host_key_approved_at=now,
                        host_key_approved_by="bench")
            node.seal_credential(h.client_private_key_pem)
            rows.append(node)
        Node.objects.bulk_create(rows)
        self.by_address = {n.address: n for n in h.nodes}

    def change_render(self) -> bytes:
        """Re-import the cluster with another endpoint: every node's file differs from the new render."""
        from regui.pushes.files import cluster_files
        from regui.registries.importing import registries_import

        self.variant += 1
        registries_import(cluster=self.cluster, text=YAML.format(i=self.variant), replace=True)
        self.cluster.refresh_from_db()
        self.content = cluster_files(self.cluster)[0].content
        return self.content

    def check_landed(self, what: str) -> None:
        wrong = [hn.name for hn in self.harness.nodes if hn.read(self.cluster.registries_path) != self.content]
        if wrong:
            raise RuntimeError(f"{what}: the new file is not on {len(wrong)} node(s): {', '.join(wrong[:5])}")

    # --- measurements --------------------------------------------------------------------------------

    def add(self, row: str, **values) -> dict:
        self.rows.setdefault(row, []).append(values)
        return values

    def run_floor(self) -> None:
        wall, per_node = floor(self.targets)
        self.add("floor", wall=wall, node_median=statistics.median(per_node), node_max=max(per_node))
        log(f"floor    {wall:6.2f} s")

    def run_bare(self) -> None:
        content = self.change_render()
        wall, per_node = bare_push(self.targets, self.cluster.registries_path, content)
        self.check_landed("bare push")
        self.add("bare", wall=wall, node_median=statistics.median(per_node), node_max=max(per_node))
        log(f"bare     {wall:6.2f} s")

    def run_regui(self, row: str = "regui", restart: bool = False, servers: int = 0) -> None:
        from regui.inventory.models import Node
        from regui.pushes.models import PushJob, PushResult
        from regui.pushes.services import effective_policy, push_job_create

        nodes = list(self.cluster.nodes.order_by("name"))
        roles = {n.pk: (Node.Role.SERVER if i < servers else Node.Role.AGENT) for i, n in enumerate(nodes)}
        for role in (Node.Role.SERVER, Node.Role.AGENT):
            Node.objects.filter(pk__in=[pk for pk, r in roles.items() if r == role]).update(role=role)
        self.change_render()
        start = time.time()
        job = push_job_create(cluster=self.cluster, restart=restart,
                              policy=effective_policy(self.cluster, {"agents_at_once": "100%"}))
        self.wait([job.pk])
        job.refresh_from_db()
        wall = ended([job]) - start
        results = list(job.results.all())
        bad = [r for r in results if r.status != PushResult.Status.CHANGED or (restart and not r.restarted)]
        if job.status != PushJob.Status.DONE or bad or len(results) != len(nodes):
            detail = "\n".join(f"  {r.node_name}: {r.status} {r.message}" for r in bad[:5])
            raise RuntimeError(f"{row}: job {job.pk} {job.status} {job.message}; {len(bad)} node(s) not "
                               f"changed:\n{detail}\n{self.worker_tail()}")
        self.check_landed(row)
        self.add(row, wall=wall, **job_profile(job, results), spread=chunk_spread(job))
        log(f"{row:8} {wall:6.2f} s  (job {job.pk}: {len(results)} x changed; {chunk_spread(job)})")

    def run_shared(self) -> None:
        """One job to all nodes in as many chunks as workers: a large job spread over the workers."""
        from django.test import override_settings

        size = -(-self.args.nodes // self.args.workers)
        with override_settings(REGUI_PUSH_CHUNK=size):  # the plan (its chunks) is made here, at creation
            self.run_regui("shared")

    def run_two_jobs(self) -> None:
        """Two jobs at once, each to half of the nodes (write only): with two workers, side by side."""
        from regui.pushes.models import PushJob
        from regui.pushes.services import effective_policy, push_job_create

        nodes = list(self.cluster.nodes.order_by("name"))
        halves = nodes[: len(nodes) // 2], nodes[len(nodes) // 2:]
        self.change_render()
        policy = effective_policy(self.cluster, {"agents_at_once": "100%"})
        start = time.time()
        jobs = [push_job_create(cluster=self.cluster, restart=False, nodes=list(half), policy=policy) for half in halves]
        self.wait([j.pk for j in jobs])
        for job in jobs:
            job.refresh_from_db()
        wall = ended(jobs) - start
        for job in jobs:
            if job.status != PushJob.Status.DONE or job.results.exclude(status="changed").exists():
                raise RuntimeError(f"2 jobs: job {job.pk} {job.status} {job.message}\n{self.worker_tail()}")
        self.check_landed("2 jobs")
        spread = " / ".join(chunk_spread(j) for j in jobs)
        self.add("2 jobs", wall=wall, spread=spread)
        log(f"2 jobs   {wall:6.2f} s  ({spread})")

    def wait(self, ids: list[int]) -> None:
        """Until the jobs are over. A raw read, every POLL: a query every few milliseconds took CPU from the
        push it timed (~0.1 s of CPU during a 100-node push); the span is the job's own (`ended`)."""
        from django.db import connection

        from regui.pushes.models import PushJob

        sql = (f"SELECT count(*) FROM {PushJob._meta.db_table} WHERE id IN ({', '.join(['%s'] * len(ids))}) "
               "AND status IN ('queued', 'running')")
        deadline = time.monotonic() + 300
        with connection.cursor() as cursor:
            while True:
                cursor.execute(sql, ids)
                if cursor.fetchone()[0] == 0:
                    return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"jobs {ids} not done after 300 s:\n{self.worker_tail()}")
                time.sleep(POLL)

    def run_ansible(self) -> None:
        binary = ansible_venv(log)
        work = Path(tempfile.mkdtemp(prefix="regui-bench-ansible-"))
        self.stack.callback(shutil.rmtree, work, True)
        src = work / "registries.yaml"
        src.write_bytes(self.change_render())
        log(f"ansible  running ({ANSIBLE_CORE}, forks={self.args.nodes}) ...")
        wall = ansible_copy(binary, self.harness, work, src, self.cluster.registries_path)
        self.check_landed("ansible")
        self.add("ansible", wall=wall)
        log(f"ansible  {wall:6.2f} s")

    def worker_tail(self) -> str:
        text = ""
        for path in self.worker_logs:
            with contextlib.suppress(OSError):
                text += f"--- {path.name} (tail) ---\n" + path.read_text()[-3000:]
        return text

    def report(self) -> None:
        report(self)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5, help="runs of floor, bare and regui (best counts)")
    parser.add_argument("--stock-sshd", action="store_true",
                        help="nodes' sshd opens sessions as a stock Debian sshd (UsePAM yes, Debian's pam.d/sshd)")
    parser.add_argument("--workers", type=int, default=1, help="Celery workers sharing the jobs (2: adds the "
                                                               "'2 jobs' row)")
    parser.add_argument("--no-ansible", action="store_true", help="skip the Ansible baseline")
    parser.add_argument("--no-restart", action="store_true", help="skip the push with restarts")
    parser.add_argument("--keep", action="store_true", help="keep the data dir (database, worker log)")
    parser.add_argument("--production", action="store_true",
                        help="PostgreSQL + Redis instead of the embedded defaults (servers from "
                             "REGUI_BENCH_DATABASE_URL / REGUI_BENCH_BROKER_URL, or this machine's)")
    args = parser.parse_args()

    def run(data: Path, stack: ExitStack) -> None:
        bench = Bench(args, data, stack)
        bench.start()
        # The baselines run in this process: frozen, its heap (Django, the harness) is not walked by a full
        # garbage collection in the middle of a timed run, as in the worker (regui/celery.py).
        gc.freeze()
        log("warm-up push (not timed: first task in a fresh worker process)")
        bench.run_regui("warmup")
        bench.rows.pop("warmup")
        for _ in range(args.runs):  # interleaved, so drift on the machine hits every row alike
            bench.run_floor()
            bench.run_bare()
            bench.run_regui()
        if args.workers >= 2:
            for _ in range(args.runs):
                bench.run_two_jobs()
                bench.run_shared()
        if not args.no_restart:
            for _ in range(args.runs):
                bench.run_regui("restart", restart=True, servers=min(3, args.nodes))
        if not args.no_ansible:
            bench.run_ansible()
        bench.report()

    return harness_main("bench/push.py", args, run)


if __name__ == "__main__":
    sys.exit(main())

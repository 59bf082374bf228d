"""bench/push.py's report and the figures it takes from a job's rows (split out of push.py)."""

from __future__ import annotations

import statistics
from collections import Counter

TARGET_FLOOR, TARGET_ANSIBLE = 1.3, 10.0


def paired(rows: dict[str, list[dict]], row: str, base: str = "floor") -> list[float]:
    """row_i / base_i for each run index i: the two were measured back to back in the same round (push.py
    interleaves floor, bare and regui), so drift on the machine (load from other work, its speed) hits a
    pair alike and mostly cancels in its ratio, where best / best and median / median pair runs that
    may be far apart in time."""
    return [r["wall"] / b["wall"] for r, b in zip(rows.get(row, []), rows.get(base, []), strict=False)]


def report(bench) -> None:
    rows, args = bench.rows, bench.args
    best = {row: min(runs, key=lambda r: r["wall"]) for row, runs in rows.items()}
    n = args.nodes
    print()
    print(f"push of a changed registries.yaml to {n} nodes; {args.workers} worker(s) "
          f"--concurrency={bench.cores}, every agent at once (100%)")
    print(f"database: {db_description()}")
    print("sshd: " + ("stock Debian sessions (UsePAM yes, Debian's pam.d/sshd)" if args.stock_sshd
                      else "harness default (UsePAM no)"))
    width = max(26, 5 * max(len(runs) for runs in rows.values()) + 2)
    print(f"{'':9}{'best s':>8}{'median':>8}{'runs (s)':>{width}}{'node med s':>12}{'node max s':>12}"
          f"{'peak nodes':>12}")
    for row, runs in rows.items():
        b = best[row]
        walls = " ".join(f"{r['wall']:.2f}" for r in runs)
        med = f"{b['node_median']:.2f}" if "node_median" in b else "-"
        mx = f"{b['node_max']:.2f}" if "node_max" in b else "-"
        peak = str(b.get("peak", "-"))
        median = statistics.median(r["wall"] for r in runs)
        print(f"{row:9}{b['wall']:8.2f}{median:8.2f}{walls:>{width}}{med:>12}{mx:>12}{peak:>12}")
    for row in ("regui", "restart"):
        if row in best:
            p = best[row]
            print(f"\n{row} best run, from the job's timestamps (s): created->started (broker pickup) "
                  f"{p['pickup']:.3f} | started->first node {p['setup']:.3f} | first node start->last node "
                  f"end {p['nodes']:.3f} | last node end->job finished {p['tail']:.3f} | created->finished "
                  f"{p['db_total']:.3f}; node start spread {p['start_spread']:.3f}")
    for row in ("regui", "restart", "2 jobs", "shared"):
        if row in best:
            print(f"{row} best run ran on: {best[row]['spread']}")
    print()
    failed = False
    if "floor" in best and "regui" in best:
        ratio = best["regui"]["wall"] / best["floor"]["wall"]
        med = (statistics.median(r["wall"] for r in rows["regui"])
               / statistics.median(r["wall"] for r in rows["floor"]))
        ok = max(ratio, med) <= TARGET_FLOOR  # both, so one lucky floor run cannot decide it
        failed |= not ok
        print(f"regui / floor   = {ratio:5.2f} best, {med:5.2f} median  (target <= {TARGET_FLOOR})  "
              f"{'PASS' if ok else 'FAIL'}")
        print_paired(rows, "regui")
    if "bare" in best and "floor" in best:
        print(f"bare / floor    = {best['bare']['wall'] / best['floor']['wall']:5.2f}  "
              "(regui's remote program without Celery and database; for reference)")
        print_paired(rows, "bare")
    if "ansible" in best and "regui" in best:
        ratio = best["ansible"]["wall"] / best["regui"]["wall"]
        ok = ratio >= TARGET_ANSIBLE
        failed |= not ok
        print(f"ansible / regui = {ratio:5.1f}  (target >= {TARGET_ANSIBLE:g})  {'PASS' if ok else 'FAIL'}")
    if "2 jobs" in best and "regui" in best:
        ratio = best["2 jobs"]["wall"] / best["regui"]["wall"]
        print(f"2 jobs / regui  = {ratio:5.2f}  (two half-size jobs at once against one job to all: about 1 "
              "when jobs run side by side, about 2 if they waited for each other)")
    if "shared" in best and "regui" in best:
        ratio = best["shared"]["wall"] / best["regui"]["wall"]
        workers = len(best["shared"]["spread"].split(", "))
        print(f"shared / regui  = {ratio:5.2f}  (one job's step split over {workers} of {args.workers} "
              "workers, against one chunk)")
    if "regui" in best:
        peak = best["regui"]["peak"]
        ok = peak > bench.cores
        failed |= not ok
        print(f"peak nodes in flight = {peak} with a worker pool of {bench.cores}  "
              f"(must exceed the pool size)  {'PASS' if ok else 'FAIL'}")
    print(f"overall: {'FAIL' if failed else 'PASS'}")


def print_paired(rows: dict[str, list[dict]], row: str) -> None:
    ratios = paired(rows, row)
    if ratios:
        runs = " ".join(f"{r:.2f}" for r in ratios)
        print(f"  paired, run by run ({row}_i / floor_i, measured back to back) = {statistics.median(ratios):5.2f} "
              f"median, {min(ratios):5.2f} best  ({runs})")


def ended(jobs) -> float:
    """When the last of the jobs ended (time.time() scale: the worker's clock is this machine's)."""
    return max(job.finished_at for job in jobs).timestamp()


def db_description() -> str:
    from django.db import connection

    if connection.vendor != "sqlite":
        from django.conf import settings

        return f"{connection.vendor}, broker {settings.CELERY_BROKER_URL.split('://')[0]}"
    with connection.cursor() as c:
        mode = c.execute("PRAGMA journal_mode").fetchone()[0]
        sync = c.execute("PRAGMA synchronous").fetchone()[0]
    return f"sqlite, journal_mode={mode}, synchronous={sync} (as the worker opens it)"


def job_profile(job, results) -> dict:
    """Where a job's time went, from its own and its results' timestamps (seconds)."""
    starts = sorted(r.started_at for r in results)
    ends = sorted(r.finished_at for r in results)
    events = sorted([(r.started_at, 1) for r in results] + [(r.finished_at, -1) for r in results])
    peak = cur = 0
    for _, step in events:
        cur += step
        peak = max(peak, cur)

    def s(a, b) -> float:
        return (b - a).total_seconds()

    durations = [r.duration_ms / 1000 for r in results]
    return {"pickup": s(job.created_at, job.started_at), "setup": s(job.started_at, starts[0]),
            "nodes": s(starts[0], ends[-1]), "tail": s(ends[-1], job.finished_at),
            "db_total": s(job.created_at, job.finished_at), "start_spread": s(starts[0], starts[-1]),
            "node_median": statistics.median(durations), "node_max": max(durations), "peak": peak}


def chunk_spread(job) -> str:
    """Which worker ran how many of the job's chunks, e.g. "bench1 x1, bench2 x1"."""
    counts = Counter(c.worker.split("@")[0] or "?" for c in job.chunks.all())
    return ", ".join(f"{w} x{k}" for w, k in sorted(counts.items()))

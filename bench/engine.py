"""Time the K3s engine on a registries.yaml with as many mirrors as regui reads (200: regui/k3s/limits.py)
against yaml.safe_load of the same text.

Run: .venv/bin/python bench/engine.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from regui.k3s import generate_hosts, lint  # noqa: E402
from regui.k3s.limits import MAX_MIRRORS  # noqa: E402

MIRRORS = MAX_MIRRORS  # was 500, until the limits refused more (the bench then stopped at its check)
RUNS = 5


def build_file(n: int = MIRRORS) -> str:
    lines = ["mirrors:"]
    configs = ["configs:"]
    for i in range(n):
        name = ["docker.io", "quay.io", "ghcr.io", "registry.k8s.io"][i] if i < 4 else f"reg{i}.example.com"
        lines.append(f"  {name}:")
        lines.append("    endpoint:")
        lines.append(f'      - "https://mirror{i % 50}.example.com:5000"')
        if i % 3 == 0:
            lines.append(f"      - http://10.0.{i % 250}.1:5000/v2")
        if i % 5 == 0:
            lines.append(f"      - harbor.example.com/v2/proxy-{i}")
        if i % 7 == 0:
            lines.append(f"      - {name}")
        if i % 4 == 0:
            lines.append("    rewrite:")
            lines.append(f'      "^rancher/(.*)": "mirror{i}/rancher/$1"')
            lines.append(f'      "^library/(.*)": "hub{i}/${{1}}"')
        if i % 2 == 0:
            configs.append(f'  "mirror{i % 50}.example.com:5000":' if i < 100 else f"  {name}:")
            configs.append("    auth:")
            configs.append(f"      username: user{i}")
            configs.append(f"      password: pass{i}")
            configs.append("    tls:")
            configs.append(f"      ca_file: /etc/ssl/ca-{i}.pem")
            configs.append(f"      insecure_skip_verify: {'true' if i % 6 == 0 else 'false'}")
    return "\n".join(lines + configs) + "\n"


def best_ms(fn: Callable[[], object], runs: int = RUNS) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def main() -> None:
    text = build_file()
    result = generate_hosts(text)
    assert result.parse_error is None and result.hosts_dirs, "benchmark file must be valid"
    findings = lint(text)
    base = best_ms(lambda: yaml.safe_load(text))
    gen = best_ms(lambda: generate_hosts(text))
    lnt = best_ms(lambda: lint(text))
    print(f"input: {MIRRORS} mirrors, {len(text.splitlines())} lines, {len(text)} bytes; "
          f"{len(result.hosts_dirs)} hosts.toml files, {len(findings)} lint findings; best of {RUNS} runs")
    print(f"yaml.safe_load   {base:8.1f} ms   1.00x")
    print(f"generate_hosts   {gen:8.1f} ms   {gen / base:5.2f}x")
    print(f"lint             {lnt:8.1f} ms   {lnt / base:5.2f}x")


if __name__ == "__main__":
    main()

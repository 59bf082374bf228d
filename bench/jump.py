"""What going through a jump host costs, next to connecting directly, same run (regui/remote/jump.py).

    .venv/bin/python bench/jump.py              # 20 nodes behind one bastion
    .venv/bin/python bench/jump.py --nodes 50

Needs root (harness nodes are network namespaces with their own sshd). Node 1 is the bastion; the other
nodes are reachable both directly and through it, so the two ways are timed against the same sshds.
Timed: one connection (connect, log in, run `true`, close) at a time, and all the nodes at once (a
push's agents). Each node connection has its own login on the bastion (see jump._Lease for why none is
shared): the last column counts them. Best of --rounds; the ratio is through-the-jump-host / direct.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from regui.remote import jump as jumping  # noqa: E402
from regui.remote import ssh  # noqa: E402
from tests.harness.nodes import Harness  # noqa: E402
from tests.threads import errors_in_threads  # noqa: E402


def one(target: ssh.Target) -> None:
    transport = (jumping.connect if target.jump else ssh.connect)(target, timeout=10, retries=3, backoff=0.2)
    try:
        assert ssh.run(transport, "true", timeout=10).status == 0
    finally:
        transport.close()


def timed(run: Callable[[], None], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def sequential(targets: list[ssh.Target]) -> Callable[[], None]:
    return lambda: [one(t) for t in targets] and None


def at_once(targets: list[ssh.Target]) -> Callable[[], None]:
    def run() -> None:
        if errors := errors_in_threads(one, targets):
            raise errors[0]

    return run


def logins(bastion) -> int:
    """Public-key logins sshd logged on the bastion so far."""
    return (bastion.dir / "sshd.log").read_text().count("Accepted publickey")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=20, help="nodes behind the bastion")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with Harness.create(args.nodes + 1, etc_dirs=()) as h:
        bastion, nodes = h.nodes[0], h.nodes[1:]
        key = h.client_private_key_pem

        def pinned(n) -> ssh.HostKey:
            return ssh.HostKey(n.host_key_type, n.host_key_public)

        via = ssh.Jump("bastion", ssh.Target(bastion.address, 22, h.user, pinned(bastion), private_key=key))
        direct = [ssh.Target(n.address, 22, h.user, pinned(n), private_key=key, name=n.name) for n in nodes]
        jumped = [ssh.Target(n.address, 22, h.user, pinned(n), private_key=key, name=n.name, jump=via) for n in nodes]
        one(direct[0]), one(jumped[0])  # warm up
        rows = []
        for label, make in (("one at a time", sequential), ("all at once", at_once)):
            d = timed(make(direct), args.rounds)
            before = logins(bastion)
            j = timed(make(jumped), args.rounds)
            per_round = (logins(bastion) - before) / args.rounds
            rows.append((label, d, j, per_round))
        print(f"{args.nodes} nodes, best of {args.rounds}; a connection = connect, log in, run `true`, close")
        print(f"{'':14} {'direct':>10} {'via jump':>10} {'ratio':>6}  logins on the bastion per round")
        for label, d, j, per_round in rows:
            print(f"{label:14} {d * 1000:8.0f} ms {j * 1000:8.0f} ms {j / d:5.2f}x  {per_round:.0f}")


if __name__ == "__main__":
    main()

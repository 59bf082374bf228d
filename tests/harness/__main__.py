"""Fake SSH nodes by hand (root needed).

    python -m tests.harness up 3 [--sudo | --no-sudo | --sudo-password] [--json]
    python -m tests.harness list
    python -m tests.harness down [ID ...] [--all]

`up` leaves the nodes running and prints how to reach them. `down` without IDs removes every instance
whose creating process is gone (all `up` instances and leftovers of crashed test runs); `--all` also
removes instances of test runs that are still going.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from typing import Any

from .nodes import ROOT, Harness, HarnessUnavailable, start_time, teardown


def instances() -> list[dict[str, Any]]:
    """The state of every instance under ROOT, with ``owner_alive``: is its creating process still running?"""
    out = []
    for f in sorted(ROOT.glob("*/state.json")):
        with contextlib.suppress(OSError, ValueError):
            st = json.loads(f.read_text())
            st["owner_alive"] = start_time(st.get("owner_pid", 0)) == st.get("owner_start")
            out.append(st)
    return out


def down(ids: Sequence[str] = (), include_live: bool = False) -> list[str]:
    """Tear down the given instances; without ids those whose creator is gone (`up`, crashed runs)."""
    done = []
    for st in instances():
        if (st["id"] in ids) if ids else (include_live or not st["owner_alive"]):
            teardown(st)
            done.append(st["id"])
    return done


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.harness", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="start N nodes and leave them running")
    up.add_argument("n", type=int, nargs="?", default=3)
    mode = up.add_mutually_exclusive_group()
    mode.add_argument("--sudo", dest="sudo", action="store_const", const="nopasswd", default="nopasswd",
                      help="deploy may sudo without a password (default)")
    mode.add_argument("--no-sudo", dest="sudo", action="store_const", const="none", help="deploy has no sudo")
    mode.add_argument("--sudo-password", dest="sudo", action="store_const", const="password",
                      help="deploy may sudo with its password")
    up.add_argument("--json", action="store_true", help="print the state as JSON")
    dn = sub.add_parser("down", help="tear instances down")
    dn.add_argument("ids", nargs="*")
    dn.add_argument("--all", action="store_true", help="also instances whose creator is still running")
    sub.add_parser("list", help="list instances")
    args = p.parse_args(argv)

    if args.cmd == "up":
        try:
            h = Harness.create(args.n, sudo=args.sudo, detached=True)
        except HarnessUnavailable as exc:
            print(f"harness unavailable: {exc}", file=sys.stderr)
            return 2
        st = h.state()
        if args.json:
            print(json.dumps(st, indent=1))
            return 0
        print(f"harness {h.id}: {len(h.nodes)} node(s) on {h.subnet} (bridge {h.bridge}, host {h.host_address})")
        print(f"{'name':8} {'address':14} port  sudo      host key")
        for n in h.nodes:
            print(f"{n.name:8} {n.address:14} {n.port:<5} {n.sudo:9} {n.host_key_type} {n.host_key_fingerprint}")
        print(f"\nusers:        {h.user} (key), {h.sudo_user} (key or password {h.sudo_password!r})")
        print(f"client key:   {h.client_key_path}  (private, OpenSSH format; .pub next to it)")
        print(f"known_hosts:  {st['known_hosts']}")
        print(f"state:        {h.dir / 'state.json'}")
        a = h.nodes[0].address
        print(f"try:          ssh -i {h.client_key_path} -o UserKnownHostsFile={st['known_hosts']} {h.user}@{a}")
        print(f"restarts log: {h.nodes[0].upper}/regui-harness/systemctl.log")
        print(f"down:         python -m tests.harness down {h.id}")
        return 0
    if args.cmd == "list":
        for st in instances():
            owner = "running" if st["owner_alive"] else "gone"
            addrs = " ".join(n["address"] for n in st["nodes"])
            print(f"{st['id']}  {st['subnet']}  creator {st['owner_pid']} {owner}  {addrs}")
        return 0
    removed = down(args.ids, include_live=args.all)
    missing = sorted(set(args.ids) - set(removed))
    for i in removed:
        print(f"removed {i}")
    if not args.ids and not args.all:
        for st in instances():
            print(f"kept {st['id']}: its creator (pid {st['owner_pid']}) is running; use `down {st['id']}` or --all")
    if not removed and not args.ids:
        print("nothing to remove")
    if missing:
        print(f"not found under {ROOT}: {' '.join(missing)}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

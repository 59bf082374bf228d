"""Baselines for bench/push.py that need no Django: the SSH floor, a bare one-exec push, Ansible."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# Newest ansible-core that installs on Python 3.11 (2.20 needs 3.12); pinned so runs compare.
ANSIBLE_CORE = "ansible-core==2.19.14"
ANSIBLE_VENV = Path(os.environ.get("REGUI_BENCH_ANSIBLE_VENV", "/tmp/regui-bench-ansible-venv"))


def targets(harness) -> list:
    """One pinned-host-key root target per harness node (what regui builds from a Node row)."""
    from regui.remote import ssh

    pem = harness.client_private_key_pem
    return [ssh.Target(address=n.address, port=n.port, username=harness.user,
                       host_key=ssh.HostKey(n.host_key_type, n.host_key_public), private_key=pem)
            for n in harness.nodes]


def parallel_exec(targets: list, command: str, stdin: bytes = b"") -> tuple[float, list[float], list[str]]:
    """Connect + authenticate + one exec per target, all at once: (wall s, per-node s, stdouts)."""
    from regui.remote import ssh

    def one(target) -> tuple[float, str]:
        t = time.perf_counter()
        transport = ssh.connect(target, timeout=10, retries=1)
        try:
            out = ssh.run(transport, command, stdin, timeout=60)
        finally:
            transport.close()
        if out.status != 0:
            raise RuntimeError(f"{target.address}: `{command}` exited {out.status}: {out.stderr[-500:]}")
        return time.perf_counter() - t, out.stdout

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        done = list(pool.map(one, targets))
    return time.perf_counter() - start, [d for d, _ in done], [o for _, o in done]


def floor(targets: list) -> tuple[float, list[float]]:
    """The least any push must do: connect, authenticate, exec `true`."""
    wall, per_node, _ = parallel_exec(targets, "true")
    return wall, per_node


def bare_push(targets: list, path: str, content: bytes) -> tuple[float, list[float]]:
    """regui's own remote program over the same one exec, from plain threads: no Celery, no database."""
    from regui.remote.report import parse_report
    from regui.remote.script import RemoteFile, push_program

    program = push_program([RemoteFile(path, content, dir_mode="0755")], mode="push", service="k3s-agent",
                           restart=False)
    wall, per_node, outs = parallel_exec(targets, "sh -s", program.encode())
    bad = [o for o in outs if parse_report(o).result != "changed"]
    if bad:
        raise RuntimeError(f"bare push: {len(bad)} node(s) did not report a change:\n{bad[0][-500:]}")
    return wall, per_node


# --- Ansible ------------------------------------------------------------------------------------------

def ansible_venv(log) -> Path:
    """A venv with pinned ansible-core for the benchmark only (reused when it already has the pin)."""
    binary = ANSIBLE_VENV / "bin" / "ansible"
    marker = ANSIBLE_VENV / ".regui-bench-pin"
    if binary.exists() and marker.exists() and marker.read_text() == ANSIBLE_CORE:
        return binary
    log(f"installing {ANSIBLE_CORE} into {ANSIBLE_VENV} (once; reused on later runs)")
    shutil.rmtree(ANSIBLE_VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(ANSIBLE_VENV)], check=True)
    r = subprocess.run([str(ANSIBLE_VENV / "bin" / "pip"), "install", "-q", ANSIBLE_CORE],
                       capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"pip install {ANSIBLE_CORE} failed:\n{r.stderr[-3000:]}")
    marker.write_text(ANSIBLE_CORE)
    return binary


def ansible_copy(binary: Path, harness, work: Path, src: Path, dest: str) -> float:
    """`ansible all -m copy` with forks = node count, plain OpenSSH without ControlMaster; wall seconds."""
    inventory = work / "inventory.ini"
    inventory.write_text("[nodes]\n" + "".join(f"{n.address}\n" for n in harness.nodes)
                         + "\n[nodes:vars]\nansible_python_interpreter=/usr/bin/python3\n")
    (work / "ansible.cfg").write_text("[defaults]\n")
    for sub in ("home", "local-tmp"):
        (work / sub).mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update({
        "ANSIBLE_CONFIG": str(work / "ansible.cfg"), "ANSIBLE_HOME": str(work / "home"),
        "ANSIBLE_LOCAL_TEMP": str(work / "local-tmp"), "ANSIBLE_REMOTE_TEMP": "/tmp/.ansible-regui-bench",
        "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=no -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no "
                            "-o LogLevel=ERROR",
        "PATH": f"{binary.parent}:{env.get('PATH', '/usr/bin:/bin')}",
    })
    cmd = [str(binary), "all", "-i", str(inventory), "-m", "copy",
           "-a", f"src={shlex.quote(str(src))} dest={shlex.quote(dest)} mode=0600",
           "--forks", str(len(harness.nodes)), "-u", harness.user, "--private-key", str(harness.client_key_path)]
    start = time.perf_counter()
    r = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=1800)
    wall = time.perf_counter() - start
    (work / "ansible.log").write_text(r.stdout + r.stderr)
    if r.returncode:
        raise RuntimeError(f"ansible exited {r.returncode}:\n{(r.stdout + r.stderr)[-3000:]}")
    return wall

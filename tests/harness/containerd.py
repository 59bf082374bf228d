"""A private containerd (Debian's containerd 1.6) and ``ctr images pull --hosts-dir``.

The daemon gets its own root, state, temp and socket under a short temporary directory (a unix
socket path must stay under ~108 bytes), the CRI plugin disabled, and is stopped by its PID.

In containerd 1.6 ``ctr images pull`` resolves and fetches **in the ctr process**; the daemon only
stores content and unpacks it. ctr's HTTP transport honours ``HTTP(S)_PROXY``, and Go never proxies
requests to loopback addresses. :class:`ProxySink` uses that: ctr runs with both proxy variables
pointing at a local sink that records and refuses every request, so a fallback to a registry's own
(non-existent) host such as ``https://mirror.harness.test/v2`` never reaches DNS or the network
and the test can see that it was attempted.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .registry import stop_process

CONTAINERD_BIN = "/usr/bin/containerd"
CTR_BIN = "/usr/bin/ctr"
NAMESPACE = "regui-harness"


class ProxySink:
    """An HTTP proxy on 127.0.0.1 that records each request line and answers 403 to all of them."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="proxy-sink", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def targets(self) -> list[str]:
        """``host:port`` (CONNECT) or absolute URL (plain HTTP) of every request seen so far."""
        with self._lock:
            return [r.split(" ")[1] if " " in r else r for r in self.requests]

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(2)
                data = b""
                try:
                    while b"\r\n" not in data and len(data) < 8192:
                        chunk = conn.recv(1024)
                        if not chunk:
                            break
                        data += chunk
                    line = data.split(b"\r\n", 1)[0].decode("latin-1")
                    with self._lock:
                        self.requests.append(line)
                    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass

    def start(self) -> ProxySink:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()


@dataclass
class PullResult:
    args: list[str]
    returncode: int
    output: str  # stdout + stderr
    proxied: list[str] = field(default_factory=list)  # what ctr tried to reach off-box during this pull

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass
class Containerd:
    workdir: Path
    ctr: str = CTR_BIN
    proc: subprocess.Popen | None = None
    sink: ProxySink | None = None
    snapshotter: str = "native"  # works everywhere (no overlay-on-overlay surprises in CI containers)

    @property
    def socket(self) -> Path:
        return self.workdir / "c.sock"

    @property
    def log_path(self) -> Path:
        return self.workdir / "containerd.log"

    def ctr_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        if self.sink is not None:
            env["HTTP_PROXY"] = env["HTTPS_PROXY"] = self.sink.url
        return env

    def run_ctr(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = [self.ctr, "-a", str(self.socket), "-n", NAMESPACE, *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=self.ctr_env(),
                              stdin=subprocess.DEVNULL)

    def pull(self, image: str, hosts_dir: Path | str, user: str | None = None, *extra: str,
             timeout: float = 60) -> PullResult:
        """``ctr images pull --hosts-dir DIR [--user u:p] IMAGE``."""
        args = ["images", "pull", "--hosts-dir", str(hosts_dir), "--snapshotter", self.snapshotter]
        if user is not None:
            args += ["--user", user]
        args += [*extra, image]
        seen = len(self.sink.requests) if self.sink else 0
        done = self.run_ctr(*args, timeout=timeout)
        proxied = self.sink.targets[seen:] if self.sink else []
        shown = [a if a != user else "<user:password>" for a in args]
        return PullResult(shown, done.returncode, done.stdout + done.stderr, proxied)

    def remove_image(self, image: str) -> None:
        self.run_ctr("images", "rm", "--sync", image, timeout=30)

    def describe(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return "(no containerd log)"


def write_config(workdir: Path) -> Path:
    config = workdir / "config.toml"
    config.write_text(f"""\
version = 2
root = "{workdir / 'root'}"
state = "{workdir / 'state'}"
temp = "{workdir / 'tmp'}"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "{workdir / 'c.sock'}"

[ttrpc]
  address = "{workdir / 'c.sock.ttrpc'}"

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{workdir / 'opt'}"
""")
    (workdir / "tmp").mkdir(exist_ok=True)
    return config


@contextmanager
def running_containerd(binary: str = CONTAINERD_BIN, ctr: str = CTR_BIN,
                       startup_timeout: float = 30) -> Iterator[Containerd]:
    """Start a private containerd and a :class:`ProxySink`; stop both and remove everything after."""
    workdir = Path(tempfile.mkdtemp(prefix="rgcd-", dir="/tmp"))  # short: the socket path is limited
    cd = Containerd(workdir=workdir, ctr=ctr)
    try:
        config = write_config(workdir)
        cd.sink = ProxySink().start()
        with open(cd.log_path, "w") as log:
            cd.proc = subprocess.Popen([binary, "--config", str(config)], stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True, cwd=workdir)
        deadline = time.monotonic() + startup_timeout
        while True:
            if cd.proc.poll() is not None:
                raise RuntimeError(f"containerd exited with {cd.proc.returncode}\n{cd.describe()}")
            if cd.socket.exists():
                done = cd.run_ctr("version", timeout=10)
                if done.returncode == 0 and "Server:" in done.stdout:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"containerd did not answer on {cd.socket} in {startup_timeout}s\n{cd.describe()}")
            time.sleep(0.1)
        yield cd
    finally:
        stop_process(cd.proc, timeout=15)
        if cd.sink is not None:
            cd.sink.close()
        shutil.rmtree(workdir, ignore_errors=True)

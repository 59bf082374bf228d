"""How a fake node runs the node program: in its own directory standing in for `/` (absolute paths under
REBASED moved there, file contents left as they are), and read as ssh.run reads a real node's output."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable

from regui.remote import ssh

# The node directories a push touches; anything else stays where it is (the node's coreutils).
REBASED = ("/etc/rancher/", "/var/lib/rancher/")


def rebase(program: str, root: str) -> str:
    """Prefix `root` to each path under REBASED that the shell reads as (the start of) a word.

    A small POSIX quoting scanner: file contents travel single-quoted (or base64) and keep their
    bytes, even when they name these paths (registries.yaml names its TLS files); comments are skipped."""
    out: list[str] = []
    quote = ""
    i, n = 0, len(program)
    while i < n:
        c = program[i]
        word_start = i == 0 or program[i - 1] in " \t\n;|&("
        if quote == "'":
            quote = "" if c == "'" else quote
        elif c == "\\":
            out.append(program[i:i + 2])
            i += 2
            continue
        elif quote == '"':
            quote = "" if c == '"' else quote
        elif c == "#" and word_start:
            end = program.find("\n", i)
            end = n if end < 0 else end
            out.append(program[i:end])
            i = end
            continue
        elif c in "'\"":
            quote = c
            if program.startswith(REBASED, i + 1):  # a quoted path (shlex quotes odd characters)
                out += [c, root]
                i += 1
                continue
        elif word_start and program.startswith(REBASED, i):
            out.append(root)
        out.append(c)
        i += 1
    return "".join(out)


def bounded_run(argv: list[str], stdin: bytes, cwd: str, timeout: float,
                 on_stdout: Callable[[bytes], None] | None = None) -> tuple[int, bytes, bytes]:
    """Run the node's shell as ssh.run reads a real node: each stream up to ssh.MAX_OUTPUT bytes, and
    past that the command is killed and ssh's own error raised (so memory stays bounded here too);
    `on_stdout` sees standard output as it arrives (without the fake's root, but for a path split
    between two reads).
    Its own process group, so that a kill also stops the children holding its pipes (a `cat`)."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
                            env={"PATH": f"{cwd}/bin:/usr/bin:/bin", "LC_ALL": "C"}, start_new_session=True)

    def kill() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    streams = {"standard output": proc.stdout, "standard error": proc.stderr}
    data = {name: bytearray() for name in streams}
    over: list[str] = []

    def read(name: str) -> None:
        stream = streams[name]
        assert stream is not None
        while chunk := stream.read1(32768):
            data[name] += chunk
            if on_stdout is not None and name == "standard output":
                on_stdout(chunk.replace(cwd.encode(), b""))
            if len(data[name]) > ssh.MAX_OUTPUT:
                over.append(name)
                data[name].clear()
                kill()
                return

    readers = [threading.Thread(target=read, args=(name,), daemon=True) for name in streams]
    for t in readers:
        t.start()
    try:
        assert proc.stdin is not None
        proc.stdin.write(stdin)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    deadline = time.monotonic() + timeout
    for t in readers:
        t.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in readers):
        kill()
        proc.wait()
        raise ssh.no_answer(timeout)
    status = proc.wait()
    if over:
        raise ssh.too_much_output(over[0])
    return status, bytes(data["standard output"]), bytes(data["standard error"])

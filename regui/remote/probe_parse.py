"""What the node programs of probe.py print, read: the flags the node's config files set, the
hosts.toml files K3s wrote (exact bytes, checked against their length and sha256), and a pull's
outcome with the hosts containerd's resolver tried, from ctr's `--debug` log lines. Pure Python.

Only lines starting with `RG-` count; anything malformed is said in `errors`, never raised.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field

from .probe import FLAGS


@dataclass(frozen=True)
class FlagSetting:
    value: bool | None  # None: set to something K3s would not read as a boolean
    raw: str
    path: str  # the config file that set it last


@dataclass
class NodeConfig:
    """What the node's config files say about the flags: the last file to set a flag wins."""

    files: list[str] = field(default_factory=list)
    flags: dict[str, FlagSetting] = field(default_factory=dict)


_TRUE = {"true", "yes", "on", "y"}
_FALSE = {"false", "no", "off", "n"}


def flag_value(raw: str) -> bool | None:
    """A YAML scalar as K3s's config loader turns it into a boolean flag value."""
    text = raw.split(" #", 1)[0].strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    text = text.lower()
    return True if text in _TRUE else False if text in _FALSE else None


def parse_config(lines: list[str]) -> NodeConfig:
    """The RG-CONFIG / RG-FLAG lines of probe.py's `flags` (the node's config files, in K3s's order)."""
    config = NodeConfig()
    paths: dict[str, str] = {}
    for line in lines:
        word, _, rest = line.partition(" ")
        number, _, text = rest.partition(" ")
        if word == "RG-CONFIG":
            paths[number] = text
            config.files.append(text)
        elif word == "RG-FLAG":
            key, _, value = text.partition(":")
            key = key.strip().strip("'\"")
            if key in FLAGS:
                config.flags[key] = FlagSetting(flag_value(value), value.strip(), paths.get(number, ""))
    return config


@dataclass(frozen=True)
class HostsFile:
    name: str  # the certs.d directory: a registry host, or _default
    size: int
    sha256: str
    mtime: int
    content: bytes | None  # None: over the bound, only its length and sha256 came back


@dataclass
class Readback:
    config: NodeConfig
    certs_found: bool = False
    files: list[HostsFile] = field(default_factory=list)
    too_many: bool = False
    registries_sha256: str = ""  # "" when the node has no registries.yaml
    registries_mtime: int = 0
    errors: list[str] = field(default_factory=list)


def parse_readback(stdout: str) -> Readback:
    lines = stdout.splitlines()
    report = Readback(parse_config(lines))
    header: list[str] | None = None
    chunks: list[str] = []
    for line in lines:
        if header is not None:
            if line != "RG-END":
                chunks.append(line)
                continue
            report.files.append(_file(header, "".join(chunks), report.errors))
            header, chunks = None, []
            continue
        word, _, rest = line.partition(" ")
        if word == "RG-REGISTRIES":
            sha, _, mtime = rest.partition(" ")
            report.registries_sha256 = "" if sha == "-" else sha
            report.registries_mtime = _int(mtime)
        elif word == "RG-CERTS":
            report.certs_found = True
        elif word == "RG-TOOMANY":
            report.too_many = True
        elif word == "RG-ERROR":
            report.errors.append(rest)
        elif word == "RG-FILE":
            parts = rest.split(" ", 4)
            if len(parts) < 5:
                report.errors.append(f"unreadable line from the node: {line[:200]}")
            elif parts[3] == "b64":
                header = parts
            else:
                report.files.append(HostsFile(parts[4], _int(parts[0]), parts[1], _int(parts[2]), None))
    if header is not None:
        report.errors.append(f"the node's output ended inside certs.d/{header[4]}/hosts.toml")
    return report


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


def _file(header: list[str], encoded: str, errors: list[str]) -> HostsFile:
    size, sha, mtime, _, name = header
    try:
        content: bytes | None = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        content = None
    if content is None or len(content) != _int(size) or hashlib.sha256(content).hexdigest() != sha:
        errors.append(f"certs.d/{name}/hosts.toml changed while it was read, or came back damaged: read it again")
        content = None
    return HostsFile(name, _int(size), sha, _int(mtime), content)


# ctr --debug writes logrus text lines: time="..." level=debug msg="do request" host=... url="..."
_FIELD = re.compile(r'([A-Za-z0-9_.\-]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)')


def _unquote(value: str) -> str:
    if value.startswith('"'):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value[1:-1]
        return decoded if isinstance(decoded, str) else value[1:-1]
    return value


def log_fields(line: str) -> dict[str, str]:
    return {m.group(1): _unquote(m.group(2)) for m in _FIELD.finditer(line)}


@dataclass
class HostTry:
    """One host containerd's resolver tried for the image's manifest, in order."""

    host: str
    urls: list[str] = field(default_factory=list)  # manifest URLs requested of it
    statuses: list[str] = field(default_factory=list)  # "200 OK", "401 Unauthorized", ...
    error: str = ""  # why containerd went on to the next host
    served: bool = False  # the image was resolved here


def resolver_tries(lines: list[str]) -> list[HostTry]:
    """The hosts ctr's resolver tried, from its --debug lines (containerd 1.6 to 2.x)."""
    tries: list[HostTry] = []
    for line in lines:
        f = log_fields(line)
        msg, host = f.get("msg", ""), f.get("host", "")
        if not host:
            continue
        if msg == "resolving" or (msg == "do request" and (not tries or tries[-1].host != host)):
            tries.append(HostTry(host))
        elif not tries or tries[-1].host != host:
            continue
        current = tries[-1]
        url = f.get("url", "")
        if msg == "do request" and url and url not in current.urls:
            current.urls.append(url)
        elif msg == "fetch response received" and f.get("response.status"):
            current.statuses.append(f["response.status"])
        elif msg.startswith("trying next host"):
            current.error = f.get("error") or msg.removeprefix("trying next host").lstrip(" -") or "failed"
        elif msg == "resolved":
            current.served = True
    return tries


@dataclass
class PullReport:
    config: NodeConfig
    tool: str = ""  # "ctr" | "crictl" | "none" ("" when the program did not get that far)
    command: str = ""  # how the node was asked, e.g. "k3s ctr"
    certs_found: bool = True
    present_before: bool = False
    status: int | None = None  # the pull command's exit status
    tries: list[HostTry] = field(default_factory=list)
    final_error: str = ""  # ctr's own last word ("ctr: failed to resolve reference ...")
    tail: list[str] = field(default_factory=list)  # the last lines the pull command printed
    image: str = ""  # removed | kept | was-present | remove-failed ("" when the pull failed)
    errors: list[str] = field(default_factory=list)

    @property
    def pulled(self) -> bool:
        return self.status == 0

    @property
    def timed_out(self) -> bool:
        return self.status == 124


def parse_pull(stdout: str) -> PullReport:
    lines = stdout.splitlines()
    report = PullReport(parse_config(lines))
    log: list[str] = []
    for line in lines:
        word, _, rest = line.partition(" ")
        if word == "RG-TOOL":
            report.tool, _, report.command = rest.partition(" ")
        elif word == "RG-NOCERTS":
            report.certs_found = False
        elif word == "RG-PRESENT":
            report.present_before = rest.strip() == "1"
        elif word == "RG-PULL":
            report.status = _int(rest.strip()) if rest.strip().isdigit() else None
        elif word == "RG-LOG":
            if rest.startswith("ctr: "):
                report.final_error = rest
            else:
                log.append(rest)
        elif word == "RG-TAIL":
            report.tail.append(rest)
        elif word == "RG-IMAGE":
            report.image = rest.strip()
        elif word == "RG-ERROR":
            report.errors.append(rest)
    report.tries = resolver_tries(log)
    return report

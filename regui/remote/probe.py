"""Reading a node's live K3s/RKE2 registry configuration, one SSH exec each. Pure Python, no Django.

Two POSIX shell programs, sent on stdin like script.py's (everything inside a function called on the
last line, so a cut connection leaves a syntax error, not half a program); probe_parse.py reads what
they print:

- `readback_program`: the agent flags the node's K3s config files set, the sha256 of registries.yaml,
  and every `certs.d/*/hosts.toml` K3s generated, each with its byte length and sha256 and its bytes
  base64-encoded (exact bytes, whatever they are), within a budget that keeps the output bounded.
- `pull_program`: which pull command the node has (the distro's bundled `ctr`, else `crictl`: looked
  for, never assumed), one pull of an image through the hosts dir K3s wrote, with the resolver's log
  lines of ctr's `--debug` (which host was tried, what it answered, which one served), then the image
  removed unless it was on the node before or the operator asked to keep it.

Nothing secret travels either way: a config file is read on the node and only the lines of the two
flags come back (config.yaml also holds the cluster token); registries.yaml comes back as its sha256.
Every line the programs print starts with `RG-`, so nothing else on stdout is mistaken for a report.
"""

from __future__ import annotations

import re
import shlex

FLAGS = ("disable-default-registry-endpoint", "embedded-registry")
SOCKET = "/run/k3s/containerd/containerd.sock"  # K3s's and RKE2's containerd
MAX_FILE = 64 * 1024  # one hosts.toml beyond this is reported by length and sha256 only
BUDGET = 512 * 1024  # bytes of hosts.toml sent in all (base64 adds a third): the rest by sha256 only
MAX_FILES = 256
MAX_LOG_LINES = 400
TOOLS = ("auto", "ctr", "crictl")


def certs_dir(distro: str) -> str:
    """Where K3s/RKE2 write the registry hosts dirs (<data-dir>/agent/etc/containerd/certs.d)."""
    return f"/var/lib/rancher/{distro}/agent/etc/containerd/certs.d"


def config_dir(distro: str) -> str:
    return f"/etc/rancher/{distro}"


def _q(value: str) -> str:
    return shlex.quote(value)


_COMMON = r"""
LC_ALL=C; export LC_ALL
PATH=$PATH:/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH
say() { printf '%s\n' "$*"; }
# The config files K3s merges, in its order (config.yaml, then config.yaml.d/*.yaml by name): only
# the lines that set one of the flags come back; the files also hold the cluster token.
flags() {
  n=0
  for f in @CONFIG@/config.yaml @CONFIG@/config.yaml.d/*.yaml; do
    [ -f "$f" ] || continue
    n=$((n+1))
    say "RG-CONFIG $n $f"
    grep -E "^[\"']?(@FLAGS@)[\"']?[[:space:]]*:" "$f" 2>/dev/null | head -n 20 | cut -c1-300 \
      | while IFS= read -r line; do say "RG-FLAG $n $line"; done
  done
}
"""


def _fill(template: str, **values: str) -> str:
    """Paths go in as words of their own (never `var=/path`), so that the fake nodes of the tests,
    which rebase absolute paths into their own directory, see every one of them."""
    for name, value in values.items():
        template = template.replace(f"@{name}@", value)
    if leftover := re.search(r"@[A-Z0-9]+@", template):
        raise ValueError(f"unfilled placeholder {leftover.group(0)}")
    return template


def _common(distro: str) -> str:
    return _fill(_COMMON, CONFIG=config_dir(distro), FLAGS="|".join(FLAGS))


_READBACK = r"""
main() {
@COMMON@
flags
registries @REGISTRIES@
hosts @CERTS@
}
registries() {
  if [ -f "$1" ]; then set -- $(sha256sum < "$1") "$(stat -c %Y "$1" 2>/dev/null || echo 0)"; say "RG-REGISTRIES $1 $3"
  else say "RG-REGISTRIES - 0"; fi
}
hosts() {
  if [ ! -d "$1" ]; then say "RG-NOCERTS"; return 0; fi
  say "RG-CERTS"
  n=0 total=0
  for f in "$1"/*/hosts.toml; do
    [ -f "$f" ] || continue
    n=$((n+1))
    if [ $n -gt @MAXFILES@ ]; then say "RG-TOOMANY"; break; fi
    name=${f%/hosts.toml}; name=${name##*/}
    size=$(wc -c < "$f"); size=$((size+0))
    set -- $(sha256sum < "$f")
    mtime=$(stat -c %Y "$f" 2>/dev/null || echo 0)
    if [ $size -gt @MAXFILE@ ] || [ $((total+size)) -gt @BUDGET@ ]; then
      say "RG-FILE $size $1 $mtime - $name"
    else
      total=$((total+size))
      say "RG-FILE $size $1 $mtime b64 $name"
      base64 < "$f" || say "RG-ERROR cannot read $f"
      say "RG-END"
    fi
  done
}
main
"""


def readback_program(distro: str, registries_path: str) -> str:
    """Flags, registries.yaml's sha256 and every certs.d/*/hosts.toml (see the module docstring)."""
    return _fill(_READBACK, COMMON=_common(distro), REGISTRIES=_q(registries_path), CERTS=_q(certs_dir(distro)),
                 MAXFILES=str(MAX_FILES), MAXFILE=str(MAX_FILE), BUDGET=str(BUDGET))


_PULL = r"""
main() {
@COMMON@
flags
detect @RKE2@/bin/ctr @RKE2@/bin/crictl @RKE2@/agent/etc/crictl.yaml
if [ -z "$tool" ]; then say "RG-TOOL none"; return 0; fi
say "RG-TOOL $tool $cmd"
pull @IMAGE@ @CERTS@
}
# Sets $tool and $cmd: the distro's bundled ctr, else crictl (the distro's, else one on the PATH).
# A command counts when it runs (`--version`), not when a file of its name is there.
detect() {
  tool= cmd=
  if [ @WANT@ != crictl ]; then
    if [ @DISTRO@ = k3s ] && works k3s ctr; then tool=ctr cmd="k3s ctr"
    elif [ @DISTRO@ = rke2 ] && [ -x "$1" ] && works "$1"; then tool=ctr cmd="$1 --address @SOCKET@"; fi
  fi
  if [ -z "$tool" ] && [ @WANT@ != ctr ]; then
    if [ @DISTRO@ = k3s ] && works k3s crictl; then tool=crictl cmd="k3s crictl"
    elif [ -x "$2" ] && works "$2"; then tool=crictl cmd="$2 --config $3"
    elif works crictl; then tool=crictl cmd="crictl --runtime-endpoint unix://@SOCKET@"; fi
  fi
}
works() { "$@" --version >/dev/null 2>&1; }
pull() {
  img=$1 certs=$2 present=0 limit=
  [ -d "$certs" ] || say "RG-NOCERTS"
  command -v timeout >/dev/null 2>&1 && limit="timeout @TIMEOUT@"
  log=$(mktemp 2>/dev/null) || { say "RG-ERROR cannot make a temporary file"; exit 3; }
  if [ $tool = ctr ]; then
    $cmd -n k8s.io images ls -q 2>/dev/null | grep -Fxq -- "$img" && present=1
    say "RG-PRESENT $present"
    # containerd 1.7+ pulls in the daemon (transfer service) unless --local: the resolver's log is
    # then not ctr's to print. 1.6 pulls in ctr and has no such flag.
    where=; $cmd images pull --help 2>&1 | grep -q -- '--local' && where=--local
    $limit $cmd --debug -n k8s.io images pull $where --hosts-dir "$certs" "$img" > "$log" 2>&1; rc=$?
    say "RG-PULL $rc"
    grep -E 'msg=(resolving|resolved|"do request" host=|"fetch response received" host=|"trying next host)|^ctr: ' "$log" \
      | sed -E 's/ (request|response)\.header\.[A-Za-z0-9-]+=("([^"\\]|\\.)*"|[^ ]*)//g' \
      | cut -c1-2000 | head -n @MAXLOG@ | while IFS= read -r line; do say "RG-LOG $line"; done
  else
    $cmd inspecti "$img" >/dev/null 2>&1 && present=1
    say "RG-PRESENT $present"
    $limit $cmd pull "$img" > "$log" 2>&1; rc=$?
    say "RG-PULL $rc"
  fi
  # What the command said besides ctr's own log lines (those came above, the useful ones).
  grep -Ev '^time="[^"]*" level=(trace|debug|info) ' "$log" | tail -n 8 | cut -c1-1000 \
    | while IFS= read -r line; do say "RG-TAIL $line"; done
  rm -f "$log"
  [ $rc = 0 ] || return 0
  if [ $present = 1 ]; then say "RG-IMAGE was-present"
  elif [ @KEEP@ = 1 ]; then say "RG-IMAGE kept"
  elif [ $tool = ctr ] && $cmd -n k8s.io images rm "$img" >/dev/null 2>&1; then say "RG-IMAGE removed"
  elif [ $tool = crictl ] && $cmd rmi "$img" >/dev/null 2>&1; then say "RG-IMAGE removed"
  else say "RG-IMAGE remove-failed"; fi
}
main
"""


def pull_program(distro: str, image: str, *, keep: bool = False, tool: str = "auto", timeout: int = 300) -> str:
    """Detect the pull command, pull `image` (already normalised, e.g. docker.io/library/x:1) through
    the hosts dir K3s wrote, and remove it again unless kept or already there."""
    if tool not in TOOLS:
        raise ValueError(f"tool must be one of {TOOLS}")
    return _fill(_PULL, COMMON=_common(distro), IMAGE=_q(image), CERTS=_q(certs_dir(distro)), WANT=tool,
                 DISTRO=_q(distro), RKE2="/var/lib/rancher/rke2", SOCKET=SOCKET, TIMEOUT=str(int(timeout)),
                 MAXLOG=str(MAX_LOG_LINES), KEEP="1" if keep else "0")

"""Reading a registries.yaml someone else wrote, before any import plan: as K3s (or RKE2) parses it,
refused when regui cannot keep a value as it is, and shown with its credentials replaced by markers.
The Registries page's Edit as YAML and a node's page read text with it too."""

from __future__ import annotations

import re
from collections.abc import Sequence

from regui.k3s import Registries, RegistriesParseError, parse_registries
from regui.k3s.limits import RegistriesTooLarge

from .draft import HOST_MAX, PATH_MAX, USERNAME_MAX
from .node_names import withheld
from .render import AuthSpec, ConfigSpec, MirrorSpec, RegistriesSpec, TLSSpec, render_yaml


def printable(text: str) -> str:
    """Text for a page: a lone surrogate (a YAML "\\ud800" escape) cannot be sent as UTF-8, so it is
    shown as its escape instead of failing the whole answer."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class ImportRefused(Exception):
    def __init__(self, message: str, line: int | None = None, details: list[str] | None = None):
        super().__init__(printable(message))
        self.line = line
        self.details = [printable(d) for d in details or []]


class ImportStale(ImportRefused):
    """The registries were saved after the plan someone confirmed was made: its diff is not what
    would happen any more."""


def read_registries(text: str, program: str, typed: bool = True, ours: bool = False) -> Registries:
    """The file as `program` (K3s or RKE2) reads it; ImportRefused when it refuses the file, or when
    regui cannot keep some value as it is. (The Registries page's Edit as YAML reads text with it too.)
    `typed=False`: a file no one who reads the refusal wrote (a node's): no line of it is quoted, and
    one whose names or values may be a credential of it is refused (node_names.py), unless `ours`: regui
    wrote that very file there (see registries_redacted)."""
    try:
        parsed = parse_registries(text)
    except RegistriesTooLarge as exc:
        raise ImportRefused(f"regui does not import this file ({exc}).", exc.line) from None
    except RegistriesParseError as exc:
        raise ImportRefused(_refusal(program, getattr(exc, "line", None), str(exc if typed else exc.unquoted)),
                            getattr(exc, "line", None),
                            details=shell_lines(text, quote=typed)) from None
    # Before anything that names a registry (the checks below, the plan, its warnings, the save).
    if not typed and not ours and (reasons := withheld(parsed)):
        raise ImportRefused(f"{program} reads this file, but regui does not import it: some text it would show "
                            "is a credential of the file, or written so that it can stand for one. Fix these "
                            "lines on the node and import again.", details=reasons)
    if unstorable := _unstorable(parsed, program):
        raise ImportRefused(f"{program} reads this file, but regui cannot keep some of its values as they are: "
                            "fix them and import again.", details=unstorable)
    return parsed


def _refusal(program: str, line: int | None, message: str) -> str:
    """K3s's own words, as its log gives them, and the real line: yaml.v2 numbers most syntax errors from
    0, so "line 4: yaml: line 3: ..." read as two contradicting places."""
    said = re.search(r"\bline (\d+)\b", message)
    if not line or (said and int(said.group(1)) == line):
        return f"{program} would refuse this file ({message})"
    if said:
        return f"{program} would refuse this file at line {line} (its log would say: {message})"
    return f"{program} would refuse this file (line {line}: {message})"


# Lines a guide puts around the file: a shell prompt (root@node:~# ...), a command that writes or
# restarts (cat <<EOF, tee, systemctl ...), a heredoc's closing word. YAML's parser reports the line
# where it gave up, often the valid one after, so the refusal names these as well.
_PROMPT = re.compile(r"^\S+@[\w.-]+:\S*[#$](\s|$)")
_COMMAND = re.compile(r"^(sudo\s+)?(cat|tee|echo|printf|systemctl|service|mkdir|vi|vim|nano|crictl|kubectl|k3s|rke2)"
                      r"(\s+(?![:#])|$)|<<-?\s*['\"]?\w+['\"]?\s*$")
_SHOWN = 5


def shell_lines(text: str, quote: bool = True) -> list[str]:
    """What a refusal adds when the text holds shell lines, not YAML: each (up to a few), then the fix.
    `quote=False`: by number only (a node's file holds credentials in clear: a password folded onto a
    line of its own reads like a command)."""
    found, closing = [], None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if _PROMPT.match(stripped):
            found.append(f"Line {number} is a shell prompt, not YAML" + (f": {stripped[:120]}" if quote else "."))
        elif _COMMAND.search(stripped):
            found.append(f"Line {number} is a shell command, not YAML" + (f": {stripped[:120]}" if quote else "."))
            if heredoc := re.search(r"<<-?\s*['\"]?(\w+)", stripped):
                closing = heredoc.group(1)
        elif closing is not None and stripped == closing:
            found.append(f"Line {number} ends the shell's here-document, not YAML" + (f": {stripped}" if quote else "."))
            closing = None
    if not found:
        return []
    more = [f"… and {len(found) - _SHOWN} more."] if len(found) > _SHOWN else []
    return [*found[:_SHOWN], *more, "It looks copied from a terminal or a guide: import only the lines of "
            "registries.yaml itself (mirrors: and configs: with what is indented under them)."]


# Keys that belong under a registry name: at the top level, the text lost its indentation.
_REGISTRY_FIELDS = {"endpoint", "rewrite", "auth", "tls", "username", "password", "identity_token", "ca_file",
                    "cert_file", "key_file", "insecure_skip_verify"}


def lost_indentation(parsed: Registries) -> bool:
    """Whether keys that belong under a registry name sit at the top level, where K3s ignores them."""
    return any(len(p) == 1 and p[0] in _REGISTRY_FIELDS for p in parsed.ignored_paths)


# The keys K3s reads somewhere in a file: the only keys of a node's file a page names.
_K3S_KEYS = {"mirrors", "configs", "auths", *_REGISTRY_FIELDS}
MAX_KEY_SHOWN = 40  # characters of one key a page shows
_KEYS_SHOWN = 12


def key_text(key: str) -> str:
    """A key as a page shows it: cut short, each character that does not print (a control, a line
    break, a bidi override, a lone surrogate) as its escape, so that no key rewrites the message."""
    shown = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                    for c in key[:MAX_KEY_SHOWN])
    return shown + "…" if len(key) > MAX_KEY_SHOWN else shown


def keys_named(paths: Sequence[tuple[str, ...]], typed: bool = True) -> str:
    """The dotted paths of ignored keys, for a refusal or a warning. From a node's file (`typed=False`)
    a key K3s reads nowhere is counted, not named: no one who reads the page typed the file, and a key
    can be a value (an alias of a password, a !!binary one, a credential written where a name goes)."""
    named: list[str] = []
    unnamed: dict[str, int] = {}  # where (the parent's path), how many
    for path in dict.fromkeys(paths):
        parent = ".".join(key_text(p) for p in path[:-1])
        if typed or path[-1] in _K3S_KEYS:
            named.append(".".join(filter(None, (parent, key_text(path[-1])))))
        else:
            unnamed[parent] = unnamed.get(parent, 0) + 1
    parts = []
    if named:
        more = len(named) - _KEYS_SHOWN
        parts.append(", ".join(named[:_KEYS_SHOWN]) + (f" and {more} more" if more > 0 else ""))
    if unnamed:
        count = sum(unnamed.values())
        where = ", ".join(p or "the top level" for p in list(unnamed)[:_KEYS_SHOWN])
        parts.append(f"{count} other key{'s' if count != 1 else ''} at {where}{' …' if len(unnamed) > _KEYS_SHOWN else ''} "
                     "(of a node's file regui names only the keys K3s reads; any other may be a value)")
    return " and ".join(parts)


def reads_nothing(parsed: Registries, text: str, program: str, typed: bool = True) -> ImportRefused:
    """Why a file yields no registry at all, e.g. a guide copied from a web page that lost its
    indentation: still valid YAML, read as a flat mapping of keys K3s and RKE2 ignore."""
    found = [p for p in parsed.ignored_paths if len(p) == 1]
    empty = [k for k in ("mirrors", "configs") if re.search(rf"^[\"']?{k}[\"']?\s*:", text, re.M)]
    details = []
    if found:
        details.append(f"Its top level holds {keys_named(found, typed)}: "
                       f"{program} ignores every top-level key but mirrors and configs.")
    if empty:
        one = len(empty) == 1
        details.append(f"{' and '.join(empty)} {'is' if one else 'are'} there, with no registry indented under "
                       f"{'it' if one else 'them'}.")
    if not found and not empty:
        details.append("It holds no YAML mapping at all (only comments, or a bare value).")
    details.append(f"{program} reads registry names indented under mirrors: or configs:, and endpoint, rewrite, "
                   "auth and tls indented under a name. If the text was copied from a web page, restore its "
                   "indentation and import again.")
    return ImportRefused(f"{program} reads no registry from this file: there is nothing to import.", details=details)


_EMPTY_NAME = "an empty registry name ({program} writes certs.d/hosts.toml for it)"
_EMPTY_ENDPOINT = "an empty endpoint ({program} skips it but still writes hosts.toml for the registry); remove it"
_EMPTY_PATTERN = "an empty pattern (it matches every name); remove it"


def _unstorable(parsed: Registries, program: str) -> list[str]:
    """Values regui cannot keep as they are: empty names and endpoints (its form drops blanks, which
    would change what K3s writes), and what no column takes: too long, a NUL, bytes not UTF-8."""
    # (where, value, length limit or None, what an empty value means or None when empty is fine)
    checks: list[tuple[str, str, int | None, str | None]] = []
    for host, mirror in parsed.mirrors.items():
        at = f"mirrors.{host[:60]}"
        checks.append((at, host, HOST_MAX, _EMPTY_NAME))
        checks += [(f"{at}.endpoint[{i}]", e, None, _EMPTY_ENDPOINT) for i, e in enumerate(mirror.endpoints)]
        for pattern, replacement in mirror.rewrites.items():
            checks += [(f"{at}.rewrite pattern", pattern, None, _EMPTY_PATTERN),
                       (f"{at}.rewrite replacement", replacement, None, None)]
    for host, config in parsed.configs.items():
        at = f"configs.{host[:60]}"
        checks.append((at, host, HOST_MAX, _EMPTY_NAME))
        if config.auth is not None:
            checks.append((f"{at}.auth.username", config.auth.username, USERNAME_MAX, None))
        if config.tls is not None:
            checks += [(f"{at}.tls.{f}", getattr(config.tls, f), PATH_MAX, None) for f in ("ca_file", "cert_file", "key_file")]
    problems = []
    for where, value, limit, empty in checks:
        if value == "" and empty:
            problems.append(f"{where}: {empty.format(program=program)}")
        elif limit is not None and len(value) > limit:
            problems.append(f"{where}: longer than {limit} characters")
        elif "\0" in value:
            problems.append(f"{where}: holds a NUL character")
        elif any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            problems.append(f"{where}: holds bytes that are not UTF-8")
    return problems


def registries_redacted(text: str, source: str, program: str = "K3s", ours: bool = False) -> str:
    """A file someone else wrote, as regui would show it: same content, credentials replaced by markers.
    `ours`: a node's file that regui wrote there itself (its sha256 and sync key recorded for the node) is
    not withheld (node_names.py): its text is the registries' own, which regui's pages show already, next
    to the cluster's secret values. Withheld, it would tell whoever typed a guess of a secret where text
    is shown (a rewrite, a username) and pushed it whether the guess holds the secret, and which line."""
    return node_file_shown(text, source, program, ours)[0]


def node_file_shown(text: str, source: str, program: str = "K3s", ours: bool = False) -> tuple[str, str]:
    """(registries_redacted, why nothing of the file can be imported or ""): the node's import page offers
    no confirmation that would only be refused."""
    try:
        parsed = parse_registries(text)
    except RegistriesTooLarge as exc:
        return f"# regui does not read this file: {exc}\n", "regui does not read a file this large."
    except RegistriesParseError as exc:
        # someone else's file: no value quoted
        return f"# {program} would refuse this file: {exc.unquoted}\n", f"{program} would refuse it."
    if not ours and (reasons := withheld(parsed)):
        return "".join(f"# {line}\n" for line in [
            "regui does not show this file: some text it would show is a credential of the file, or is "
            "written so that it can stand for one.", *reasons]), ("some text it would show is a credential of "
                                                                 "the file, or can stand for one (lines above).")
    spec = RegistriesSpec(
        mirrors=tuple(MirrorSpec(h, tuple(m.endpoints), tuple(m.rewrites.items())) for h, m in parsed.mirrors.items()),
        configs=tuple(
            ConfigSpec(
                h,
                AuthSpec(c.auth.username, c.auth.password, c.auth.auth, c.auth.identity_token, source) if c.auth else None,
                TLSSpec(c.tls.ca_file, c.tls.cert_file, c.tls.key_file, bool(c.tls.insecure_skip_verify)) if c.tls else None,
            )
            for h, c in parsed.configs.items()
        ),
    )
    refusal = ("it holds no registry." if not parsed.mirrors and not parsed.configs else
               "regui cannot keep some of its values as they are." if _unstorable(parsed, program) else "")
    return render_yaml(spec, redact=True), refusal

"""Go ``net/url`` parsing and K3s endpoint normalisation.

K3s decides everything about an endpoint (scheme, host, path, whether two endpoints are
duplicates, which config applies) from the Go ``url.URL`` it parses, and writes
``url.String()`` into hosts.toml. Python's ``urllib`` disagrees with Go on many inputs,
so this module re-implements the subset of Go 1.26 ``net/url`` that K3s relies on.
Strings hold raw bytes as ``surrogateescape`` so ``%FF`` survives a round trip.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace

from .gostrings import go_quote

_HOST, _ZONE, _PATH, _USERPASS, _QUERY, _FRAGMENT = range(6)
_UPPERHEX = "0123456789ABCDEF"
_HEX = set(b"0123456789abcdefABCDEF")


class URLError(ValueError):
    """A string that Go's ``url.Parse`` rejects; ``str()`` matches Go's message."""


def _should_escape(c: int, mode: int) -> bool:
    if 48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122:
        return False
    if mode in (_HOST, _ZONE) and chr(c) in "!$&'()*+,;=:[]<>\"":
        return False
    if chr(c) in "-_.~":
        return False
    if chr(c) in "$&+,/:;=?@":
        if mode == _PATH:
            return c == ord("?")
        if mode == _USERPASS:
            return chr(c) in "@/?:"
        if mode == _QUERY:
            return True
        if mode == _FRAGMENT:
            return False
    return not (mode == _FRAGMENT and chr(c) in "!()*")


def _bytes(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def _str(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def escape(s: str, mode: int) -> str:
    out = []
    for c in _bytes(s):
        if c == 0x20 and mode == _QUERY:
            out.append("+")
        elif _should_escape(c, mode):
            out.append("%" + _UPPERHEX[c >> 4] + _UPPERHEX[c & 15])
        else:
            out.append(chr(c))
    return "".join(out)


def query_escape(s: str) -> str:
    return escape(s, _QUERY)


def unescape(s: str, mode: int) -> str:
    b = _bytes(s)
    i, out = 0, bytearray()
    while i < len(b):
        c = b[i]
        if c == 0x25:  # '%'
            if i + 2 >= len(b) or b[i + 1] not in _HEX or b[i + 2] not in _HEX:
                raise URLError(f"invalid URL escape {go_quote(_str(b[i:i + 3]))}")
            # RFC 3986: in a host, %-encoding is only for non-ASCII bytes (and %25 for zones).
            if mode == _HOST and int(chr(b[i + 1]), 16) < 8 and b[i:i + 3] != b"%25":
                raise URLError(f"invalid URL escape {go_quote(_str(b[i:i + 3]))}")
            v = int(_str(b[i + 1:i + 3]), 16)
            if mode == _ZONE and b[i:i + 3] != b"%25" and v != 0x20 and _should_escape(v, _HOST):
                raise URLError(f"invalid URL escape {go_quote(_str(b[i:i + 3]))}")
            out.append(v)
            i += 3
            continue
        if mode in (_HOST, _ZONE) and c < 0x80 and _should_escape(c, mode):
            raise URLError(f"invalid character {go_quote(chr(c))} in host name")
        out.append(c)
        i += 1
    return _str(bytes(out))


@dataclass
class GoURL:
    scheme: str = ""
    opaque: str = ""
    user: tuple[str, str | None] | None = None
    host: str = ""
    path: str = ""
    raw_path: str = ""
    omit_host: bool = False
    force_query: bool = False
    raw_query: str = ""
    fragment: str = ""
    raw_fragment: str = ""

    def port(self) -> str:
        return split_host_port_lenient(self.host)[1]

    def hostname(self) -> str:
        return split_host_port_lenient(self.host)[0]

    def escaped_path(self) -> str:
        if self.raw_path and _valid_encoded(self.raw_path, _PATH):
            try:
                if unescape(self.raw_path, _PATH) == self.path:
                    return self.raw_path
            except URLError:
                pass
        if self.path == "*":
            return "*"
        return escape(self.path, _PATH)

    def escaped_fragment(self) -> str:
        if self.raw_fragment and _valid_encoded(self.raw_fragment, _FRAGMENT):
            try:
                if unescape(self.raw_fragment, _FRAGMENT) == self.fragment:
                    return self.raw_fragment
            except URLError:
                pass
        return escape(self.fragment, _FRAGMENT)

    def __str__(self) -> str:
        buf = []
        if self.scheme:
            buf.append(self.scheme + ":")
        if self.opaque:
            buf.append(self.opaque)
        else:
            has_authority = self.scheme or self.host or self.user is not None
            # OmitHost: "scheme:/path" must not grow an empty "//" authority on output.
            if has_authority and not (self.omit_host and not self.host and self.user is None):
                if self.host or self.path or self.user is not None:
                    buf.append("//")
                if self.user is not None:
                    name, pw = self.user
                    buf.append(escape(name, _USERPASS))
                    if pw is not None:
                        buf.append(":" + escape(pw, _USERPASS))
                    buf.append("@")
                if self.host:
                    buf.append(escape(self.host, _HOST))
            path = self.escaped_path()
            if path and path[0] != "/" and self.host:
                buf.append("/")
            if not buf and ":" in path.split("/", 1)[0]:
                buf.append("./")
            buf.append(path)
        if self.force_query or self.raw_query:
            buf.append("?" + self.raw_query)
        if self.fragment:
            buf.append("#" + self.escaped_fragment())
        return "".join(buf)


def _valid_encoded(s: str, mode: int) -> bool:
    for c in _bytes(s):
        if chr(c) in "!$&'()*+,;=:@[]%":
            continue
        if _should_escape(c, mode):
            return False
    return True


def _valid_optional_port(port: str) -> bool:
    if port == "":
        return True
    return port[0] == ":" and all("0" <= ch <= "9" for ch in port[1:])


def split_host_port_lenient(hostport: str) -> tuple[str, str]:
    """Go's unexported ``url.splitHostPort`` (behind ``URL.Port``/``Hostname``)."""
    host, port = hostport, ""
    colon = host.rfind(":")
    if colon != -1 and _valid_optional_port(host[colon:]):
        host, port = host[:colon], host[colon + 1:]
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, port


def _parse_host(host: str) -> str:
    if host.startswith("["):
        i = host.rfind("]")
        if i < 0:
            raise URLError("missing ']' in host")
        colon_port = host[i + 1:]
        if not _valid_optional_port(colon_port):
            raise URLError(f"invalid port {go_quote(colon_port)} after host")
        zone = host[:i].find("%25")
        literal = host[1:zone] if zone >= 0 else host[1:i]
        # Go >= 1.25.2 only allows a real IPv6 address in brackets (not IPv4, not names).
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            raise URLError(f"invalid IP-literal {go_quote(host[:i + 1])}") from None
        if zone >= 0:
            return (unescape(host[:zone], _HOST) + unescape(host[zone:i], _ZONE)
                    + unescape(host[i:], _HOST))
    elif ":" in host:
        i = host.rfind(":")
        # Go 1.26 rejects more than one colon outside brackets ("h:1:2", "h:8080:", "::1").
        if host.find(":") != i:
            raise URLError(f"invalid host {go_quote(host)}: too many colons")
        if not _valid_optional_port(host[i:]):
            raise URLError(f"invalid port {go_quote(host[i:])} after host")
    return unescape(host, _HOST)


_USERINFO_OK = set("-._:~!$&'()*+,;=%@")


def _parse_authority(authority: str) -> tuple[tuple[str, str | None] | None, str]:
    i = authority.rfind("@")
    host = _parse_host(authority if i < 0 else authority[i + 1:])
    if i < 0:
        return None, host
    userinfo = authority[:i]
    if not all(ch.isascii() and (ch.isalnum() or ch in _USERINFO_OK) for ch in userinfo):
        raise URLError("net/url: invalid userinfo")
    if ":" not in userinfo:
        return (unescape(userinfo, _USERPASS), None), host
    name, pw = userinfo.split(":", 1)
    return (unescape(name, _USERPASS), unescape(pw, _USERPASS)), host


def _get_scheme(raw: str) -> tuple[str, str]:
    for i, ch in enumerate(raw):
        if ch.isascii() and ch.isalpha():
            continue
        if ch.isascii() and (ch.isdigit() or ch in "+-."):
            if i == 0:
                return "", raw
            continue
        if ch == ":":
            if i == 0:
                raise URLError("missing protocol scheme")
            return raw[:i], raw[i + 1:]
        return "", raw
    return "", raw


def _parse(raw: str) -> GoURL:
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in raw):
        raise URLError("net/url: invalid control character in URL")
    u = GoURL()
    if raw == "*":
        u.path = "*"
        return u
    scheme, rest = _get_scheme(raw)
    u.scheme = scheme.lower()
    if rest.endswith("?") and rest.count("?") == 1:
        u.force_query, rest = True, rest[:-1]
    elif "?" in rest:
        rest, u.raw_query = rest.split("?", 1)
    if not rest.startswith("/"):
        if u.scheme:
            u.opaque = rest
            return u
        if ":" in rest.split("/", 1)[0]:
            raise URLError("first path segment in URL cannot contain colon")
    if (u.scheme or not rest.startswith("///")) and rest.startswith("//"):
        authority, rest = rest[2:], ""
        if "/" in authority:
            i = authority.index("/")
            authority, rest = authority[:i], authority[i:]
        u.user, u.host = _parse_authority(authority)
    elif u.scheme and rest.startswith("/"):
        u.omit_host = True
    u.path = unescape(rest, _PATH)
    u.raw_path = "" if escape(u.path, _PATH) == rest else rest
    return u


def parse(raw: str) -> GoURL:
    """Go ``url.Parse``; raises URLError carrying Go's error text."""
    base, sep, frag = raw.partition("#")
    try:
        u = _parse(base)
    except URLError as e:
        raise URLError(f"parse {go_quote(base)}: {e}") from None
    if sep and frag:
        try:
            u.fragment = unescape(frag, _FRAGMENT)
        except URLError as e:
            raise URLError(f"parse {go_quote(raw)}: {e}") from None
        u.raw_fragment = "" if escape(u.fragment, _FRAGMENT) == frag else frag
    return u


def split_host_port(hostport: str) -> tuple[str, str] | None:
    """Go ``net.SplitHostPort``; None where Go returns an error."""
    i = hostport.rfind(":")
    if i < 0:
        return None
    j = k = 0
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0 or end + 1 != i:
            return None
        host = hostport[1:end]
        j, k = 1, end + 1
    else:
        host = hostport[:i]
        if ":" in host:
            return None
    if "[" in hostport[j:] or "]" in hostport[k:]:
        return None
    return host, hostport[i + 1:]


def parse_ip(s: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Go ``net.ParseIP`` (no zones, IPv4 without leading zeros)."""
    if "%" in s:
        return None
    try:
        return ipaddress.ip_address(s)
    except ValueError:
        return None


def is_localhost(host: str) -> bool:
    """containerd ``docker.IsLocalhost``: ``localhost`` or a loopback IP, port ignored."""
    hp = split_host_port(host)
    if hp is not None:
        host = hp[0]
    if host == "localhost":
        return True
    ip = parse_ip(host)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def default_host(name: str) -> str:
    """containerd ``docker.DefaultHost``."""
    return "registry-1.docker.io" if name == "docker.io" else name


@dataclass(frozen=True)
class Normalized:
    registry: str  # the name used to look up configs for this endpoint
    url: GoURL
    override_path: bool

    @property
    def url_string(self) -> str:
        return str(self.url)


def normalize_endpoint_address(endpoint: str, mirror_addr: str = "") -> Normalized:
    """K3s ``normalizeEndpointAddress``; raises URLError for unparseable endpoints."""
    if "://" not in endpoint:
        endpoint = "//" + endpoint
    u = parse(endpoint)
    port = u.port()
    if u.scheme == "":
        # containerd's rule: loopback on an explicit odd port is plain HTTP, but never for
        # the embedded registry (it always serves TLS on the supervisor port).
        if is_localhost(u.host) and port not in ("", "443") and u.host != mirror_addr:
            u.scheme = "http"
        else:
            u.scheme = "https"
    registry = u.host
    u.host = default_host(registry)
    if u.host == "registry-1.docker.io":
        registry = "docker.io"
    if u.path in ("", "/", "/v2"):
        return Normalized(registry, replace(u, path="/v2"), False)
    return Normalized(registry, u, True)

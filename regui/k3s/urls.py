"""Go ``net/url`` parsing and K3s endpoint normalisation.

K3s decides everything about an endpoint (scheme, host, path, whether two endpoints are
duplicates, which config applies) from the Go ``url.URL`` it parses, and writes
``url.String()`` into hosts.toml. Python's ``urllib`` disagrees with Go on many inputs,
so this module re-implements the subset of Go 1.26 ``net/url`` that K3s relies on.
Strings hold raw bytes as ``surrogateescape`` so ``%FF`` survives a round trip.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass, replace
from typing import Any

from .gostrings import go_quote
from .urlescape import FRAGMENT, HOST, PATH, USERPASS, ZONE, escape, unescape, valid_encoded
from .urlescape import URLError as URLError  # raised by parse(); callers catch it from here

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

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
        if self.raw_path and valid_encoded(self.raw_path, PATH):
            try:
                if unescape(self.raw_path, PATH) == self.path:
                    return self.raw_path
            except URLError:
                pass
        if self.path == "*":
            return "*"
        return escape(self.path, PATH)

    def escaped_fragment(self) -> str:
        if self.raw_fragment and valid_encoded(self.raw_fragment, FRAGMENT):
            try:
                if unescape(self.raw_fragment, FRAGMENT) == self.fragment:
                    return self.raw_fragment
            except URLError:
                pass
        return escape(self.fragment, FRAGMENT)

    def __str__(self) -> str:
        # Asked for many times per URL (hosts.toml lines, lint, duplicate checks), and escaping a long
        # percent-encoded path costs a millisecond: keep the answer while the fields stay the same.
        fields = (self.scheme, self.opaque, self.user, self.host, self.path, self.raw_path, self.omit_host,
                  self.force_query, self.raw_query, self.fragment, self.raw_fragment)
        kept = self.__dict__.get("_string")
        if kept is not None and kept[0] == fields:
            return str(kept[1])
        text = self._string()
        self.__dict__["_string"] = (fields, text)
        return text

    def _string(self) -> str:
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
                    buf.append(escape(name, USERPASS))
                    if pw is not None:
                        buf.append(":" + escape(pw, USERPASS))
                    buf.append("@")
                if self.host:
                    buf.append(escape(self.host, HOST))
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
            return (unescape(host[:zone], HOST) + unescape(host[zone:i], ZONE)
                    + unescape(host[i:], HOST))
    elif ":" in host:
        i = host.rfind(":")
        # Go 1.26 rejects more than one colon outside brackets ("h:1:2", "h:8080:", "::1").
        if host.find(":") != i:
            raise URLError(f"invalid host {go_quote(host)}: too many colons")
        if not _valid_optional_port(host[i:]):
            raise URLError(f"invalid port {go_quote(host[i:])} after host")
    return unescape(host, HOST)


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
        return (unescape(userinfo, USERPASS), None), host
    name, pw = userinfo.split(":", 1)
    return (unescape(name, USERPASS), unescape(pw, USERPASS)), host


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
    if _CONTROL.search(raw):
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
    u.path = unescape(rest, PATH)
    u.raw_path = "" if escape(u.path, PATH) == rest else rest
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
            u.fragment = unescape(frag, FRAGMENT)
        except URLError as e:
            raise URLError(f"parse {go_quote(raw)}: {e}") from None
        u.raw_fragment = "" if escape(u.fragment, FRAGMENT) == frag else frag
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

    @functools.cached_property
    def url_string(self) -> str:
        # Read several times per endpoint by lint and hosts.toml; the URL is not changed after this.
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


def normalized(memo: dict[tuple[str, str], Any], endpoint: str, mirror_addr: str = "") -> Normalized:
    """``normalize_endpoint_address``, remembered in ``memo`` (a parsed file's ``Registries.memo``).
    The result is shared by every caller for that file: read it, never change its URL."""
    if mirror_addr == ":":
        # K3s's address with the embedded registry off (see hosts.py) is not loopback, so it gives what
        # "" gives (only the scheme rule above reads it): one memo entry serves both.
        mirror_addr = ""
    key = (endpoint, mirror_addr)
    found = memo.get(key)
    if found is None:
        try:
            found = normalize_endpoint_address(endpoint, mirror_addr)
        except URLError as e:
            found = str(e)
        memo[key] = found
    if isinstance(found, str):
        raise URLError(found)
    assert isinstance(found, Normalized)
    return found

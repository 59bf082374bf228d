"""Which registry hosts a secret may be sent to.

containerd gives a config's credentials and TLS client key to the host[:port] the config is keyed by
(a `*` config's TLS to every registry without a directory of its own), and a registry test sends them
there at once: keying a config by another host routes the secret there. Below admin, a secret goes only
to the hosts some config already sends it to (the same string: containerd compares strings), unless
the user typed every value it holds, which they know already. The same goes for a client key on the
nodes: a config's `key_file` or `cert_file` (containerd reads the key from the certificate's file when
no key file is given) may name the TLS files regui writes for that config's own host, or a file the
cluster's saved config for the same host names already; any other file (another registry's key, any
key on the node) only an admin may give to a host."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

from django.db.models import Q

from regui.core.roles import ADMIN, has_role

from .draft import Draft, Errors
from .models import Cluster, RegistryConfig, Secret
from .render import tls_dir
from .selectors import secret_id


def typed_by_after(existing: Secret | None, held: set[str], typed: set[str], username: str) -> str:
    """Who typed every value a secret holds after a save: `held` are its value fields now, `typed`
    those typed in this save by `username`."""
    if held <= typed:
        return username
    before = existing.typed_by if existing is not None else ""
    return before if not typed or before == username else ""


def _clean(path: str) -> str:
    return "/" + posixpath.normpath(path).lstrip("/")  # `..`, `.` and `//` reach the same file


def node_key(path: str) -> str | None:
    """The file on the nodes a client key path names (however spelled), or None for regui's own TLS files."""
    return _clean(path) if _regui_folder_of_another(path, "") is None else None


def _regui_folder_of_another(path: str, host: str) -> str | None:
    """Where `path` is among regui's TLS files: None outside their folder, "" in `host`'s own, else the
    name of the other host's folder it is in."""
    clean = _clean(path)
    for distro in Cluster.Distro.values:  # either: a node's data dir is not regui's to know
        root = posixpath.dirname(tls_dir(distro, "*")) + "/"
        own = tls_dir(distro, host) + "/"
        if clean.startswith(root):
            # A name that normalisation re-spells (`/`, `..`) owns no folder: K3s sends its key to the host
            # before the path (evil.example/../corp.example: evil.example), not to the folder's registry.
            mine = own == _clean(own) + "/" and clean.startswith(own)
            return "" if mine else clean[len(root):].split("/", 1)[0]
    return None


_CLIENT_FILES = (("cert_file", "certificate"), ("key_file", "key"))


def _client_file_errors(draft: Draft, cluster: Cluster | None) -> Errors:
    """The client key paths a config may not name below admin: regui's files of another host, and a
    node's file the saved config for the same host does not name (the same file, however spelled)."""
    saved = set()
    if cluster is not None:
        for host, *paths in RegistryConfig.objects.filter(cluster=cluster).values_list(
                "hostname", *(f for f, _ in _CLIENT_FILES)):
            saved |= {(host, _clean(p)) for p in paths if p}
    errors: Errors = {}
    for c in draft.configs:
        for field, what in _CLIENT_FILES:
            path = getattr(c, field)
            if not path or (owner := _regui_folder_of_another(path, c.hostname)) == "":
                continue
            if owner is not None:
                message = (f"Only an admin can send the TLS {what} regui writes for {owner} to {c.hostname}: that "
                           f"path is where regui writes the {what} of the TLS Secret of {owner}.")
            elif (c.hostname, _clean(path)) in saved:
                continue
            else:
                message = (f"Only an admin can give {c.hostname} the file {path} on the nodes as its client {what} "
                           f"({field}): it may be another registry's key, and containerd would present it to "
                           f"{c.hostname}. Choose a TLS Secret instead, or ask an admin.")
            errors.setdefault(f"{c.token}-{field}", []).append(message)
    return errors


def new_host_errors(draft: Draft, user: Any, cluster: Cluster | None = None,
                    stand_ins: Mapping[int, int | None] | None = None) -> Errors:
    """The boxes that would send a secret, or a client key on the nodes, to a host it does not go to
    now, when `user` may not. `cluster`: the one saved, whose saved configs name the nodes' keys.
    `stand_ins`: a new secret that may go where the saved one it replaces goes (new id -> saved id; None:
    where the draft sends it)."""
    if user is None or has_role(user, ADMIN):
        return {}
    errors = _client_file_errors(draft, cluster)
    wanted = [(slot, sid, c.hostname) for c in draft.configs
              for slot, value in ((f"{c.token}-auth", c.auth), (f"{c.token}-tls_secret", c.tls_secret))
              if (sid := secret_id(value)) is not None]
    if not wanted:
        return errors
    stand = stand_ins or {}
    ids = {sid for _, sid, _ in wanted}
    goes = ids | {s for sid in ids if (s := stand.get(sid)) is not None}
    sent = set()
    for auth_id, tls_id, host in (RegistryConfig.objects.filter(Q(auth_secret_id__in=goes) | Q(tls_secret_id__in=goes))
                                  .values_list("auth_secret_id", "tls_secret_id", "hostname")):
        sent |= {(auth_id, host), (tls_id, host)}
    secrets = Secret.objects.only("id", "name", "typed_by").in_bulk(ids)
    for slot, sid, host in wanted:
        secret = secrets.get(sid)
        if (secret is None or (sid in stand and stand[sid] is None) or (stand.get(sid) or sid, host) in sent
                or (secret.typed_by and secret.typed_by == user.get_username())):
            continue
        errors.setdefault(slot, []).append(
            f"Only an admin can send secret “{secret.name}” to a host it is not used for ({host}): that host would "
            "receive its values. Choose it where it is used already, or enter the credential anew.")
    return errors

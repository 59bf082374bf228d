"""A cluster's saved registries as one plain structure: what a revision keeps, what history
compares, and what every draft of saved registries (the page, an import, a restore) is made from.

Secrets appear by id and name only, never by value.
"""

from __future__ import annotations

from typing import Any

from .draft import AUTH_NONE, ConfigBox, Draft, EndpointRow, MirrorBox, RewriteRow, new_token
from .models import Cluster

Snapshot = dict[str, Any]


def snapshot_of(cluster: Cluster) -> Snapshot:
    return {
        "mirrors": [
            {"hostname": m.hostname, "endpoints": list(m.endpoints), "rewrites": [list(r) for r in m.rewrites]}
            for m in cluster.mirrors.all()
        ],
        "configs": [
            {"hostname": c.hostname, "auth_secret_id": c.auth_secret_id,
             "auth_secret": c.auth_secret.name if c.auth_secret else None, "tls_secret_id": c.tls_secret_id,
             "tls_secret": c.tls_secret.name if c.tls_secret else None, "ca_bundle": c.ca_bundle,
             "insecure_skip_verify": c.insecure_skip_verify, "ca_file": c.ca_file, "cert_file": c.cert_file,
             "key_file": c.key_file, "empty_auth": c.empty_auth, "empty_tls": c.empty_tls}
            for c in cluster.configs.select_related("auth_secret", "tls_secret")
        ],
    }


def draft_from_snapshot(snapshot: Snapshot, *, revision: int, message: str = "") -> Draft:
    # Snapshots of older revisions may lack keys added since: each has the form's default.
    draft = Draft(revision=revision, message=message)
    for m in snapshot.get("mirrors", []):
        draft.mirrors.append(MirrorBox(
            new_token(), m["hostname"], [EndpointRow(new_token(), url) for url in m["endpoints"]],
            [RewriteRow(new_token(), p, r) for p, r in m["rewrites"]]))
    for c in snapshot.get("configs", []):
        draft.configs.append(ConfigBox(
            new_token(), c["hostname"],
            auth=str(c["auth_secret_id"]) if c.get("auth_secret_id") else AUTH_NONE,
            tls_secret=str(c["tls_secret_id"]) if c.get("tls_secret_id") else "",
            ca_bundle=c.get("ca_bundle", ""), insecure_skip_verify=c.get("insecure_skip_verify", False),
            ca_file=c.get("ca_file", ""), cert_file=c.get("cert_file", ""), key_file=c.get("key_file", ""),
            empty_auth=c.get("empty_auth", False), empty_tls=c.get("empty_tls", False)))
    return draft


def draft_from_cluster(cluster: Cluster) -> Draft:
    return draft_from_snapshot(snapshot_of(cluster), revision=cluster.revision)


def snapshot_secret_ids(snapshot: Snapshot) -> set[int]:
    """The secrets a snapshot refers to (auth and TLS), by id."""
    configs = snapshot.get("configs", [])
    return {c[k] for c in configs for k in ("auth_secret_id", "tls_secret_id") if c.get(k) is not None}


def snapshot_secret_names(snapshot: Snapshot, ids: set[int]) -> list[str]:
    names = {c.get(name) for c in snapshot.get("configs", [])
             for key, name in (("auth_secret_id", "auth_secret"), ("tls_secret_id", "tls_secret"))
             if c.get(key) in ids}
    return sorted(str(n) for n in names)

"""Reads: models -> drafts and render specs, in a constant number of queries."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from django.db.models import Q

from regui.core.fingerprints import sync_key

from .draft import (
    AUTH_CREATE_BASIC,
    AUTH_CREATE_RKE,
    ConfigBox,
    Draft,
    SecretInfo,
)
from .models import Cluster, Secret
from .render import AuthSpec, ConfigSpec, MirrorSpec, RegistriesSpec, TLSSpec, render_yaml, tls_dir
from .snapshots import draft_from_cluster

PRESENT = "\0present"  # stands in for a value in redacted specs: nothing real reaches the renderer


def secret_infos(cluster: Cluster) -> dict[int, SecretInfo]:
    """Every secret, each marked with whether `cluster` may use it (so a draft naming another
    cluster's secret gets an error that says why)."""
    usable = set(Secret.objects.usable_by(cluster).values_list("id", flat=True))
    return {s.id: SecretInfo(s.id, s.name, s.kind, s.id in usable)
            for s in Secret.objects.only("id", "name", "kind")}


class SecretChoices(list):
    """A plain list that templates may annotate with pre-rendered options."""


def secrets_for_choice(cluster: Cluster) -> dict[str, list[Secret]]:
    """The secrets the cluster's boxes may choose from: its own and those shared with it."""
    grouped: dict[str, list[Secret]] = {"auth": SecretChoices(), "tls": SecretChoices()}
    for s in Secret.objects.usable_by(cluster):
        grouped["tls" if s.kind == Secret.Kind.TLS else "auth"].append(s)
    return grouped


def cluster_foreign_secrets(cluster: Cluster) -> list[str]:
    """Names of the secrets the cluster's saved registries refer to but may not use (none, unless
    something went around the saves' check): a push refuses to render them."""
    usable = Secret.objects.usable_by(cluster).values("id")
    used = Secret.objects.filter(Q(auth_uses__cluster=cluster) | Q(tls_uses__cluster=cluster))
    return sorted(set(used.exclude(pk__in=usable).values_list("name", flat=True)))


def _auth_spec(box: ConfigBox, secrets: Mapping[int, Secret], reveal: bool) -> AuthSpec | None:
    if box.auth in (AUTH_CREATE_BASIC, AUTH_CREATE_RKE):
        if box.auth == AUTH_CREATE_RKE:
            token = base64.b64encode(f"{box.username}:{box.password}".encode()).decode()
            return AuthSpec(username=box.username, auth=token, secret_name="(new)")
        return AuthSpec(username=box.username, password=box.password, secret_name="(new)")
    secret = secrets.get(int(box.auth)) if box.auth.isascii() and box.auth.isdigit() else None
    if secret is None:
        return AuthSpec() if box.empty_auth else None
    if reveal:
        values = secret.unseal()
    else:
        values = {f: PRESENT for f in secret.sealed_fields.split(",") if f}
    return AuthSpec(
        username=secret.username,
        password=values.get("password", ""),
        auth=values.get("auth", ""),
        identity_token=values.get("identity_token", ""),
        secret_name=secret.name,
    )


@dataclass(frozen=True)
class TLSFile:
    """TLS material regui owns, at the path the render names; `content` is only called to push it."""

    path: str
    description: str
    content: Callable[[], bytes]


def _tls_spec(box: ConfigBox, distro: str, secrets: Mapping[int, Secret]) -> tuple[TLSSpec | None, list[TLSFile]]:
    """The config's `tls` block and the files it refers to: the one place that decides where
    TLS material lives on a node."""
    owned = tls_dir(distro, box.hostname)
    files: list[TLSFile] = []
    ca_file, cert_file, key_file = box.ca_file, box.cert_file, box.key_file
    if box.ca_bundle:
        ca_file = f"{owned}/ca.crt"
        bundle = box.ca_bundle.strip().encode() + b"\n"
        files.append(TLSFile(ca_file, f"CA Cert Bundle of {box.hostname}", lambda: bundle))
    secret = secrets.get(int(box.tls_secret)) if box.tls_secret.isascii() and box.tls_secret.isdigit() else None
    if secret is not None:
        cert_file, key_file = f"{owned}/tls.crt", f"{owned}/tls.key"
        files += [
            TLSFile(cert_file, f"certificate of secret {secret.name}", lambda: secret.certificate.encode()),
            TLSFile(key_file, f"private key of secret {secret.name}",
                    lambda: secret.unseal().get("private_key", "").encode()),
        ]
    if not (ca_file or cert_file or key_file or box.insecure_skip_verify or box.empty_tls):
        return None, files
    return TLSSpec(ca_file, cert_file, key_file, box.insecure_skip_verify), files


def draft_spec(draft: Draft, *, distro: str, secrets: Mapping[int, Secret],
               reveal: bool) -> tuple[RegistriesSpec, list[TLSFile]]:
    mirrors = tuple(
        MirrorSpec(
            host=m.hostname,
            endpoints=tuple(e.url for e in m.endpoints if e.url),
            rewrites=tuple((r.pattern, r.replacement) for r in m.rewrites if r.pattern),
        )
        for m in draft.mirrors
    )
    configs, files = [], []
    for box in draft.configs:
        tls, box_files = _tls_spec(box, distro, secrets)
        files += box_files
        configs.append(ConfigSpec(host=box.hostname, auth=_auth_spec(box, secrets, reveal), tls=tls))
    return RegistriesSpec(mirrors=mirrors, configs=tuple(configs)), files


def secret_id(value: str) -> int | None:
    """The secret a form box names by its id (the auth or TLS Secret field), if it names one: digits that
    a column can hold; else (empty, "none", "create-...", junk posted by hand) None."""
    return int(value) if value and value.isascii() and value.isdigit() and len(value) <= 18 else None


def secrets_by_id(ids: Iterable[str]) -> dict[int, Secret]:
    wanted = {sid for i in ids if (sid := secret_id(i)) is not None}
    return Secret.objects.in_bulk(wanted) if wanted else {}


def draft_secret_ids(draft: Draft) -> list[str]:
    return [c.auth for c in draft.configs] + [c.tls_secret for c in draft.configs]


def draft_render(draft: Draft, *, distro: str, reveal: bool = False) -> str:
    secrets = secrets_by_id(draft_secret_ids(draft))
    spec, _ = draft_spec(draft, distro=distro, secrets=secrets, reveal=reveal)
    return render_yaml(spec, redact=not reveal)


def cluster_render(cluster: Cluster, *, reveal: bool = False) -> str:
    """The bytes of the cluster's registries.yaml; `reveal=False` gives the redacted preview."""
    return draft_render(draft_from_cluster(cluster), distro=cluster.distro, reveal=reveal)


def engine_flags(cluster: Cluster) -> dict[str, bool]:
    """The engine's options (generate_hosts, explain_pull) as the cluster sets them for every node; a
    node may override the two agent flags (nodechecks reads what K3s on it runs with)."""
    return {"disable_default_endpoint": cluster.disable_default_registry_endpoint,
            "embedded_registry": cluster.embedded_registry, "ipv6_primary": cluster.ipv6_primary}


def nodes_engine_flags(cluster: Cluster) -> list[dict[str, bool]]:
    """Every set of engine options the cluster's nodes run with as regui knows them: the cluster's first
    (for the nodes that follow it, and those added later), then each other one the nodes' own settings
    make. What a node's K3s config file says is read by its checks (nodechecks.services.node_flags)."""
    base = engine_flags(cluster)
    out = [base]
    own = cluster.nodes.values_list("disable_default_registry_endpoint", "embedded_registry").order_by().distinct()
    for no_default, embedded in own:
        flags = {**base, **({} if no_default is None else {"disable_default_endpoint": no_default}),
                 **({} if embedded is None else {"embedded_registry": embedded})}
        if flags not in out:
            out.append(flags)
    return out


def keyed_payload(cluster: Cluster) -> tuple[str, str, list[TLSFile], str]:
    """(redacted render, real render, TLS files it names, the real render's sync key: core/fingerprints.py)
    from one read of the cluster: the key names the secret values this render holds, not others saved a
    moment later."""
    draft, secrets = _read(cluster)
    redacted, _ = draft_spec(draft, distro=cluster.distro, secrets=secrets, reveal=False)
    real, files, key = _keyed(draft, cluster.distro, secrets)
    return render_yaml(redacted, redact=True), real, files, key


def keyed_render(cluster: Cluster) -> tuple[str, str]:
    """The real render and its sync key, from one read of the cluster: keyed_payload without the redacted
    render and the TLS files, for what only compares (a node list's badges, a read-back)."""
    draft, secrets = _read(cluster)
    real, _, key = _keyed(draft, cluster.distro, secrets)
    return real, key


def _read(cluster: Cluster) -> tuple[Draft, dict[int, Secret]]:
    """The cluster's registries as a draft, with the secrets it uses: one read for a render and its key."""
    draft = draft_from_cluster(cluster)
    return draft, secrets_by_id(draft_secret_ids(draft))


def _keyed(draft: Draft, distro: str, secrets: dict[int, Secret]) -> tuple[str, list[TLSFile], str]:
    """The real render, its TLS files and its sync key: made one way for a push, a badge and a read-back."""
    spec, files = draft_spec(draft, distro=distro, secrets=secrets, reveal=True)
    real = render_yaml(spec, redact=False)
    return real, files, render_key(real, secrets.values())


def render_key(real: str, secrets: Iterable[Secret]) -> str:
    """The sync key of a real render holding these secrets' values."""
    return sync_key(hashlib.sha256(real.encode()).hexdigest(), (s.value_id for s in secrets))


def cluster_sync_key(cluster: Cluster) -> str:
    """The sync key of the cluster's render now: what a node must hold to be in sync."""
    return keyed_render(cluster)[1]


def secret_node_state(secret: Secret) -> tuple[str, str, str]:
    """What of a secret reaches the nodes: its values' identity, its username and its certificate."""
    return (secret.value_id, secret.username, secret.certificate)


def cluster_settings_token(cluster: Cluster) -> str:
    """What the settings form was opened on: a form posted with another was opened before someone changed
    the settings, and saving it would put their old values back without a word."""
    values = [str(getattr(cluster, field)) for field in Cluster.audit_fields]
    return hashlib.sha256("\0".join(values).encode()).hexdigest()[:16]

"""Reads: the saved configuration as a registry test sees it, and the Registries page's test panel."""

from __future__ import annotations

from dataclasses import dataclass, field

from regui.k3s.hosts import GenerateResult, generate_hosts
from regui.registries.models import Cluster
from regui.registries.render import render_yaml
from regui.registries.selectors import TLSFile, draft_secret_ids, draft_spec, engine_flags, secrets_by_id
from regui.registries.snapshots import draft_from_cluster

from .models import RegistryTest
from .plan import Endpoint, auth_words, make_plan, registry_names, tls_words


@dataclass
class Saved:
    """The saved configuration, as K3s generates it: from the redacted render (what anyone may see);
    `cri_auth` (the credentials containerd gets) only when revealed, in the worker."""

    result: GenerateResult
    files: dict[str, TLSFile]  # the TLS material regui writes, by its path on the nodes
    secret_names: dict[str, str]  # a config's host -> the name of its auth secret
    cri_auth: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)


def saved_configuration(cluster: Cluster, *, reveal: bool = False) -> Saved:
    draft = draft_from_cluster(cluster)
    secrets = secrets_by_id(draft_secret_ids(draft))
    spec, files = draft_spec(draft, distro=cluster.distro, secrets=secrets, reveal=False)
    flags = engine_flags(cluster)
    saved = Saved(
        result=generate_hosts(render_yaml(spec, redact=True), program=cluster.distro, **flags),
        files={f.path: f for f in files},
        secret_names=dict(cluster.configs.filter(auth_secret__isnull=False)
                          .values_list("hostname", "auth_secret__name")),
    )
    if reveal:
        real, _ = draft_spec(draft, distro=cluster.distro, secrets=secrets, reveal=True)
        saved.cri_auth = generate_hosts(render_yaml(real), program=cluster.distro, **flags).cri_auth
    return saved


@dataclass(frozen=True)
class EndpointRow:
    endpoint: Endpoint
    auth: str
    tls: str


@dataclass
class RegistryRow:
    registry: str
    endpoints: list[EndpointRow]
    error: str = ""
    notes: list[str] = field(default_factory=list)


def registry_rows(cluster: Cluster) -> list[RegistryRow]:
    """Each registry of the saved configuration with the endpoints a pull from it tries, in order."""
    saved = saved_configuration(cluster)
    owned = {path: f.description for path, f in saved.files.items()}
    rows = []
    for name in registry_names(saved.result):
        plan = make_plan(saved.result, name)
        rows.append(RegistryRow(name, [EndpointRow(e, auth_words(e, saved.secret_names), tls_words(e, owned))
                                       for e in plan.endpoints], plan.error, plan.notes))
    return rows


def latest_test(cluster: Cluster) -> RegistryTest | None:
    return RegistryTest.objects.filter(cluster=cluster).first()

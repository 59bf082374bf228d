"""Import an existing registries.yaml into a cluster: parsed exactly as K3s (or RKE2) parses it.

Two steps. `registries_import_plan` reads the file and works out what the cluster's registries would
become, writing nothing: the import page's preview and `import_registries --dry-run` show it.
`registries_import` makes the plan's secrets and saves it, or saves nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from regui.core.roles import ADMIN, has_role

from .draft import (
    ConfigBox,
    Draft,
    EndpointRow,
    Errors,
    MirrorBox,
    RewriteRow,
    draft_limits,
    drop_blank_boxes,
    new_token,
)
from .import_text import (
    ImportRefused,
    ImportStale,
    keys_named,
    printable,
    read_registries,
    reads_nothing,
)
from .models import Cluster, Secret
from .node_names import has_userinfo
from .secret_hosts import new_host_errors
from .secret_names import secret_name_for
from .selectors import draft_from_cluster, secret_id
from .services import InvalidDraft, draft_problems, registries_save, secret_create


@dataclass
class PendingSecret:
    """A secret the import will make of a config's inline credentials: not made until it is saved."""

    host: str
    name: str  # the name it will get, for the preview (secret_names.py decides it again on saving)
    kind: str
    username: str
    values: dict[str, str]


@dataclass(frozen=True)
class Change:
    section: str  # "mirror" | "config"
    host: str
    action: str  # "added" | "changed" | "removed"


@dataclass
class ImportPlan:
    cluster: Cluster
    program: str  # "K3s" or "RKE2": the cluster's distribution, as messages name it
    replace: bool
    before: Draft  # the registries now
    draft: Draft  # what they would become; a config in `pending` gets its new secret on saving
    pending: dict[str, PendingSecret] = field(default_factory=dict)  # by config box token
    mirrors: int = 0  # in the file
    configs: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def changes(self) -> list[Change]:
        return plan_changes(self)


@dataclass
class ImportResult:
    mirrors: int = 0
    configs: int = 0
    secrets: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    saved: bool = True

    def summary(self) -> str:
        if not self.saved:
            return "Nothing to import: the registries already hold everything the file has. Nothing was saved."
        made = f"; created secret(s) {', '.join(self.secrets)}" if self.secrets else ""
        entries = "entry" if self.configs == 1 else "entries"
        return f"Imported {self.mirrors} mirror(s) and {self.configs} registry authentication {entries}{made}."


def _file_auth(auth) -> tuple[str, dict[str, str]] | None:
    """(kind, values) of a config's inline credentials, or None for an empty `auth: {}`."""
    if not (auth.username or auth.password or auth.auth or auth.identity_token):
        return None
    kind = Secret.Kind.RKE_AUTH if auth.auth or auth.identity_token else Secret.Kind.BASIC
    values = {"password": auth.password, "auth": auth.auth, "identity_token": auth.identity_token}
    return kind, {k: v for k, v in values.items() if v}


def _same_secret(secret: Secret | None, kind: str, username: str, values: dict[str, str], user: Any) -> bool:
    """Whether the file's credentials are the secret the config has: importing the same file again keeps
    it instead of a copy. Below admin only a secret the importer typed is compared: keeping one or not
    shows in every answer (the preview, the summary, history), so any other would answer a guessed
    password. (No user: the server's command line, which reads every secret anyway.)"""
    if secret is None or not (user is None or has_role(user, ADMIN)
                              or (secret.typed_by and secret.typed_by == user.get_username())):
        return False
    return secret.kind == kind and secret.username == username and secret.unseal() == values


def _message_for(errors: Errors, draft: Draft) -> list[str]:
    names: dict[str, str] = {}
    for m in draft.mirrors:
        names[m.token] = f"mirrors.{m.hostname}"
        names.update({e.token: f"mirrors.{m.hostname}.endpoint[{i}]" for i, e in enumerate(m.endpoints)})
        names.update({r.token: f"mirrors.{m.hostname}.rewrite[{r.pattern}]" for r in m.rewrites})
    for c in draft.configs:
        names[c.token] = f"configs.{c.hostname}"
    out = []
    for slot, problems in errors.items():
        token, _, fieldname = slot.partition("-")
        for problem in problems:
            out.append(f"{names.get(token, token)} ({fieldname}): {problem}")
    return out


def registries_import_plan(*, cluster: Cluster, text: str, replace: bool, message: str = "",
                           user: Any = None, typed: bool = True, ours: bool = False) -> ImportPlan:
    """What importing `text` would make of the cluster's registries, as `user` imports it (None: the
    system); ImportRefused (with the reason) when it must not be imported. Writes nothing. `typed=False`:
    a node's file, whose lines a refusal does not quote (see read_registries); `ours`: one regui wrote there."""
    program = cluster.get_distro_display()
    parsed = read_registries(text, program, typed, ours)
    if not parsed.mirrors and not parsed.configs:
        raise reads_nothing(parsed, text, program, typed)
    before = draft_from_cluster(cluster)
    draft = Draft() if replace else draft_from_cluster(cluster)
    # An import is not based on a page someone looked at: it applies to whatever is current.
    draft.revision = before.revision
    draft.message = message or ("Imported registries.yaml (replacing everything)" if replace else "Imported registries.yaml")
    plan = ImportPlan(cluster=cluster, program=program, replace=replace, before=before, draft=draft)
    for host, mirror in parsed.mirrors.items():
        _put(draft.mirrors, MirrorBox(
            new_token(), host,
            endpoints=[EndpointRow(new_token(), e) for e in mirror.endpoints],
            rewrites=[RewriteRow(new_token(), p, r) for p, r in mirror.rewrites.items()],
        ))
        plan.mirrors += 1
    current = {c.hostname: c for c in before.configs}
    in_use = Secret.objects.in_bulk([sid for c in before.configs if (sid := secret_id(c.auth)) is not None])
    for host, config in parsed.configs.items():
        box = ConfigBox(new_token(), host)
        if config.auth is not None:
            if (credentials := _file_auth(config.auth)) is None:
                box.empty_auth = True
            else:
                kind, values = credentials
                old = current.get(host)
                kept = in_use.get(secret_id(old.auth) or 0) if old is not None else None
                if _same_secret(kept, kind, config.auth.username, values, user):
                    box.auth = str(kept.pk)  # type: ignore[union-attr]
                else:
                    reserved = [p.name for p in plan.pending.values()]
                    plan.pending[box.token] = PendingSecret(host, secret_name_for(cluster.name, host, reserved=reserved),
                                                            kind, config.auth.username, values)
        if config.tls is not None:
            tls = config.tls
            box.ca_file, box.cert_file, box.key_file = tls.ca_file, tls.cert_file, tls.key_file
            box.insecure_skip_verify = bool(tls.insecure_skip_verify)
            box.empty_tls = not (tls.ca_file or tls.cert_file or tls.key_file or tls.insecure_skip_verify)
        _put(draft.configs, box)
        plan.configs += 1
    if over := draft_limits(drop_blank_boxes(draft)):
        raise ImportRefused("Added to this cluster's registries, the file would take them beyond regui's limits: "
                            "import it with “Replace everything”, or remove some first.",
                            details=_message_for(over, draft))
    leaked = [f"mirrors.{m.hostname}.endpoint[{i}]" for m in draft.mirrors for i, e in enumerate(m.endpoints)
              if has_userinfo(e.url)]
    if leaked:
        raise ImportRefused(
            "Credentials inside an endpoint URL would be stored and shown in plain text: move them to "
            "configs.<registry host>.auth and import again.", details=leaked)
    # What the save would refuse `user` whatever secrets the import makes (a node's client key file; a
    # secret the cluster already has, sent to a new host) is refused here, so the preview offers no Import.
    if user is not None and (sent := new_host_errors(drop_blank_boxes(draft), user, cluster)):
        raise ImportRefused("Only an admin can import this file: the registries it would save send secrets "
                            "where they may not go.", details=_message_for(sent, draft))
    if parsed.ignored_paths:
        plan.warnings.append(f"{program} ignores these keys, so they are not imported: "
                             + keys_named(parsed.ignored_paths, typed))
    # K3s takes the file as it is, so regui does too; what the form would refuse is listed, shown
    # next to the fields on the Registries page, and lint errors still keep it from being pushed.
    if problems := draft_problems(drop_blank_boxes(draft), cluster=cluster):
        plan.warnings.append("Imported as it is, but fix these before the next save from the Registries page: "
                             + "; ".join(_message_for(problems, draft)))
    plan.warnings = [printable(w) for w in plan.warnings]
    return plan


def _put(boxes: list[Any], box: MirrorBox | ConfigBox) -> None:
    """Add the file's box, or put it in the place of the cluster's box for the same host (so that
    importing a file again changes nothing, not even the order)."""
    for i, old in enumerate(boxes):
        if old.hostname == box.hostname:
            boxes[i] = box
            return
    boxes.append(box)


def _entries(draft: Draft, pending: Mapping[str, PendingSecret],
             names: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each mirror's and config's content by hostname, secrets by name: what a change is judged on."""
    draft = drop_blank_boxes(draft)
    mirrors = {m.hostname: ([e.url for e in m.endpoints], [(r.pattern, r.replacement) for r in m.rewrites])
               for m in draft.mirrors}
    configs = {}
    for c in draft.configs:
        auth = f"new secret {pending[c.token].name}" if c.token in pending else names.get(c.auth, c.auth)
        configs[c.hostname] = (auth, c.empty_auth, names.get(c.tls_secret, c.tls_secret), c.ca_bundle,
                               c.insecure_skip_verify, c.ca_file, c.cert_file, c.key_file, c.empty_tls)
    return mirrors, configs


def plan_changes(plan: ImportPlan) -> list[Change]:
    """The mirrors and configs the import adds, changes or removes, in the order of the result."""
    ids = {sid for c in plan.before.configs + plan.draft.configs for v in (c.auth, c.tls_secret)
           if (sid := secret_id(v)) is not None}
    names = {str(pk): name for pk, name in Secret.objects.filter(pk__in=ids).values_list("pk", "name")}
    old, new = _entries(plan.before, {}, names), _entries(plan.draft, plan.pending, names)
    out = []
    for section, was, now in (("mirror", old[0], new[0]), ("config", old[1], new[1])):
        for host, value in now.items():
            if host not in was:
                out.append(Change(section, host, "added"))
            elif was[host] != value:
                out.append(Change(section, host, "changed"))
        out += [Change(section, host, "removed") for host in was if host not in now]
    return out


@transaction.atomic
def registries_import(*, cluster: Cluster, text: str, replace: bool, user=None, message: str = "",
                      revision: int | None = None, typed: bool = True, ours: bool = False) -> ImportResult:
    """Create the file's mirrors, configs and inline credentials (as secrets), or save nothing.
    `revision`: the one the confirmed preview was made against (ImportStale if it is not current).
    `typed=False`: `user` did not write the file (a node's, holding what regui pushed there); `ours`: regui
    wrote that very file there (registries_redacted says why that matters)."""
    locked = Cluster.objects.select_for_update().get(pk=cluster.pk)
    if revision is not None and locked.revision != revision:
        raise ImportStale(f"The registries of {cluster.name} were saved (revision {locked.revision}) after this "
                          f"preview was made (revision {revision}): look at the changes again.")
    plan = registries_import_plan(cluster=locked, text=text, replace=replace, message=message, user=user, typed=typed,
                                  ours=ours)
    result = ImportResult(mirrors=plan.mirrors, configs=plan.configs, warnings=plan.warnings)
    if not plan.changes:
        result.saved = False  # a revision that changes nothing would only hide the real ones
        return result
    by_token = {c.token: c for c in plan.draft.configs}
    saved_auth = {c.hostname: sid for c in plan.before.configs if (sid := secret_id(c.auth)) is not None}
    stand_ins: dict[int, int | None] = {}
    credited = (_credited_hosts(locked) if not typed and any(p.host not in saved_auth for p in plan.pending.values())
                else set())
    for token, pending in plan.pending.items():
        secret = secret_create(
            cluster=locked, host=pending.host, kind=pending.kind, username=pending.username, values=pending.values,
            description=f"Imported from registries.yaml of {cluster.name} ({pending.host})"[:200],
            message=f"from an imported registries.yaml ({pending.host})", typed=typed)
        by_token[token].auth = str(secret.pk)
        result.secrets.append(secret.name)
        if not typed and pending.host in saved_auth:
            # Not the importer's to send anywhere: the node's password for a registry stands in for the one
            # the registry has, where it goes now, as safely (a node left behind has an older file).
            stand_ins[secret.pk] = saved_auth[pending.host]
        elif not typed and pending.host not in credited:
            stand_ins[secret.pk] = None  # the node's own, as its file has it: never regui's to route
    try:
        registries_save(cluster=locked, draft=plan.draft, user=user, strict=False, stand_ins=stand_ins)
    except InvalidDraft as exc:  # it names a secret the cluster may not use, or sends one to a new host
        raise ImportRefused("Nothing was imported: the registries it would save send secrets where they may not go.",
                            details=_message_for(exc.errors, plan.draft)) from None
    return result


def _credited_hosts(cluster: Cluster) -> set[str]:
    """The hosts some revision of `cluster` sent credentials to: one the registries no longer send any
    to, a node's older file may not send them to again (nor may a restore)."""
    return {c["hostname"] for snapshot in cluster.revisions.values_list("snapshot", flat=True)
            for c in (snapshot or {}).get("configs", []) if c.get("auth_secret_id")}

"""Edit as YAML: the Registries page's form as registries.yaml text, and such text back into the form.

The text is the preview's: the redacted render of the form. It is read back exactly as an import
reads a file (K3s's parser and the import's refusals, `import_text.read_registries`) and becomes the
form's boxes instead of being saved: nothing is written until the page's Save.

Secrets stay out of the text both ways, and each redaction marker maps back to what it stands for:
`<redacted: password of secret NAME>` to secret NAME (one the cluster may use), and
`<redacted: … of secret (new)>` to the password typed in the form's box for that registry, which
never leaves the browser again. The files regui writes itself from a box (its CA Cert Bundle, a TLS
secret's certificate and key) come back to the box they are written for. A username and password
typed into the text become a box that creates a secret on Save, as the form's own would.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

from regui.k3s import Auth, Registries

from .draft import (
    AUTH_CREATE_BASIC,
    AUTH_CREATE_RKE,
    ConfigBox,
    Draft,
    EndpointRow,
    Errors,
    MirrorBox,
    RewriteRow,
    drop_blank_boxes,
    new_token,
)
from .import_text import (
    ImportRefused,
    keys_named,
    lost_indentation,
    printable,
    read_registries,
    reads_nothing,
)
from .models import Cluster, Secret
from .node_names import has_userinfo
from .render import tls_dir
from .services import draft_problems

MARKER = re.compile(r"<redacted: (?:password|auth|identity_token) of secret (.+)>")
NEW = "(new)"  # what the render names a secret the form creates on Save
# The files regui writes under a box's tls_dir, by the `tls` key that names them.
OWNED_FILES = {"ca_file": "ca.crt", "cert_file": "tls.crt", "key_file": "tls.key"}


@dataclass
class YamlApplied:
    draft: Draft
    kept_passwords: set[str] = field(default_factory=set)  # config tokens: the password typed in the form stays
    typed_passwords: set[str] = field(default_factory=set)  # config tokens: a password typed into the text
    problems: list[str] = field(default_factory=list)  # what the form marks, with the text's line numbers
    warnings: list[str] = field(default_factory=list)


def _auth_pair(value: str) -> tuple[str, str] | None:
    """username, password of an `auth` value (base64 of `user:password`, as an RKE Auth Config keeps it)."""
    try:
        text = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    username, colon, password = text.partition(":")
    return (username, password) if colon else None


class _Boxes:
    """The parsed file as the form's boxes, with the line of each field, and what keeps it out of the form."""

    def __init__(self, parsed: Registries, form: Draft, secrets: dict[str, Secret], distro: str) -> None:
        self.lines = parsed.lines
        self.secrets = secrets
        self.distro = distro
        self.owned_root = tls_dir(distro, "any").rpartition("/")[0]  # each box's files are in a folder of its own
        self.form_configs: dict[str, ConfigBox] = {}
        self.form_by_dir: dict[str, ConfigBox] = {}
        for c in form.configs:
            self.form_configs.setdefault(c.hostname, c)
            self.form_by_dir.setdefault(tls_dir(distro, c.hostname), c)
        self.slot_lines: dict[str, int] = {}
        self.refusals: list[str] = []
        self.result = YamlApplied(Draft(revision=form.revision, message=form.message))
        for host, mirror in parsed.mirrors.items():
            self.mirror(host, mirror.endpoints, list(mirror.rewrites.items()))
        for host, config in parsed.configs.items():
            self.config(host, config.auth, config.tls)

    def refuse(self, path: tuple[Any, ...], message: str) -> None:
        line = self.lines.get(path)
        self.refusals.append(printable(f"line {line}: {message}" if line else message))

    def mark(self, slot: str, *path: Any) -> None:
        if (line := self.lines.get(path)) is not None:
            self.slot_lines.setdefault(slot, line)

    def mirror(self, host: str, endpoints: list[str], rewrites: list[tuple[str, str]]) -> None:
        box = MirrorBox(new_token(), host, [EndpointRow(new_token(), e) for e in endpoints],
                        [RewriteRow(new_token(), p, r) for p, r in rewrites])
        self.mark(f"{box.token}-hostname", "mirrors", host)
        for i, row in enumerate(box.endpoints):
            self.mark(f"{row.token}-url", "mirrors", host, "endpoint", i)
            if has_userinfo(row.url):
                self.refuse(("mirrors", host, "endpoint", i), "credentials inside an endpoint URL would be stored "
                            "and shown in plain text: put them under configs.<registry host>.auth")
        for rewrite in box.rewrites:
            self.mark(f"{rewrite.token}-pattern", "mirrors", host, "rewrite", rewrite.pattern)
            self.mark(f"{rewrite.token}-replacement", "mirrors", host, "rewrite", rewrite.pattern)
        self.result.draft.mirrors.append(box)

    def config(self, host: str, auth: Auth | None, tls: Any) -> None:
        old = self.form_configs.get(host)
        # The form's box for the same registry keeps its token: its typed password stays attached.
        box = ConfigBox(old.token if old else new_token(), host)
        self.mark(f"{box.token}-hostname", "configs", host)
        if auth is not None:
            self.auth(box, old, auth)
        if tls is not None:
            self.tls(box, tls)
        self.result.draft.configs.append(box)

    def auth(self, box: ConfigBox, old: ConfigBox | None, auth: Auth) -> None:
        path = ("configs", box.hostname, "auth")
        self.mark(f"{box.token}-username", *path, "username")
        self.mark(f"{box.token}-password", *path, "password")
        self.mark(f"{box.token}-password", *path, "auth")
        for slot in ("auth", "username", "password"):
            self.mark(f"{box.token}-{slot}", *path)
        values = {"password": auth.password, "auth": auth.auth, "identity_token": auth.identity_token}
        named = {name: m.group(1) for name, value in values.items() if (m := MARKER.fullmatch(value))}
        typed = [name for name, value in values.items() if value and name not in named]
        if named:
            if len(set(named.values())) > 1 or typed:
                self.refuse(path, "a registry's credentials come from one secret, or are typed here: these values "
                            "mix " + ", ".join(sorted({*named.values(), *(["typed values"] if typed else [])})))
            elif (name := next(iter(named.values()))) == NEW:
                self.typed_in_form(box, old, auth)
            else:
                self.existing(box, auth, name)
        elif not (auth.username or typed):
            box.empty_auth = True  # `auth: {}`: K3s still writes a credentials table for it
        elif auth.identity_token:
            self.refuse((*path, "identity_token"), "the form has no field for an identity token: keep it in an RKE "
                        "Auth Config secret (Secrets page), then write <redacted: identity_token of secret NAME>")
        elif auth.auth:
            pair = _auth_pair(auth.auth)
            if auth.password:
                self.refuse((*path, "auth"), "give auth or a password, not both")
            elif pair is None:
                self.refuse((*path, "auth"), "auth must be base64 of username:password")
            elif auth.username and auth.username != pair[0]:
                self.refuse((*path, "username"), "this username is not the one inside auth")
            else:
                self.typed_here(box, AUTH_CREATE_RKE, *pair)
        else:
            self.typed_here(box, AUTH_CREATE_BASIC, auth.username, auth.password)

    def typed_here(self, box: ConfigBox, kind: str, username: str, password: str) -> None:
        box.auth, box.username, box.password = kind, username, password
        if password:
            self.result.typed_passwords.add(box.token)

    def typed_in_form(self, box: ConfigBox, old: ConfigBox | None, auth: Auth) -> None:
        if old is None or old.auth not in (AUTH_CREATE_BASIC, AUTH_CREATE_RKE):
            self.refuse(("configs", box.hostname, "auth"), f"“(new)” stands for the password typed in the form's box "
                        f"for “{box.hostname}”, and the form has none: type the username and password here instead")
            return
        box.auth, box.username, box.password = old.auth, auth.username, old.password
        self.result.kept_passwords.add(box.token)

    def existing(self, box: ConfigBox, auth: Auth, name: str) -> None:
        secret = self.secrets.get(name)
        if secret is None or secret.kind == Secret.Kind.TLS:
            self.refuse(("configs", box.hostname, "auth"), f"no HTTP Basic Auth or RKE Auth Config secret “{name}” "
                        "that this cluster may use")
        elif auth.username and auth.username != secret.username:
            self.refuse(("configs", box.hostname, "auth", "username"), f"secret “{name}” has the username "
                        f"“{secret.username}”: a secret's values are changed on the Secrets page")
        else:
            box.auth = str(secret.pk)

    def tls(self, box: ConfigBox, tls: Any) -> None:
        path = ("configs", box.hostname, "tls")
        box.insecure_skip_verify = bool(tls.insecure_skip_verify)
        box.empty_tls = not (tls.ca_file or tls.cert_file or tls.key_file or tls.insecure_skip_verify)
        self.mark(f"{box.token}-ca_bundle", *path, "ca_file")
        self.mark(f"{box.token}-tls_secret", *path, "cert_file")
        owners: dict[str, ConfigBox | None] = {}
        for key, file_name in OWNED_FILES.items():
            value = getattr(tls, key)
            self.mark(f"{box.token}-{key}", *path, key)
            folder, _, name = value.rpartition("/")
            if name not in OWNED_FILES.values() or folder.rpartition("/")[0] != self.owned_root:
                setattr(box, key, value)  # a file already on the nodes
                continue
            # A file regui writes itself, from the box whose tls_dir it is in (its hostname, so a
            # registry renamed in the text keeps its bundle or secret).
            owner = self.form_by_dir.get(folder)
            has = owner is not None and (owner.ca_bundle if key == "ca_file" else owner.tls_secret)
            if name != file_name or not has:
                what = "CA Cert Bundle" if key == "ca_file" else "TLS Secret"
                self.refuse((*path, key), f"{value} is the file regui writes from a box's {what}, and the form has "
                            "none for it: choose it in the form")
                continue
            owners[key] = owner
            if key == "ca_file":
                box.ca_bundle = owner.ca_bundle  # type: ignore[union-attr]
            else:
                box.tls_secret = owner.tls_secret  # type: ignore[union-attr]
        if ("cert_file" in owners) != ("key_file" in owners) or owners.get("cert_file") is not owners.get("key_file"):
            self.refuse(path, "a TLS Secret gives cert_file and key_file together: keep both lines, or neither")

    def problems(self, errors: Errors) -> list[str]:
        out = []
        for slot, messages in errors.items():
            line = self.slot_lines.get(slot)
            out += [printable(f"line {line}: {m}" if line else m) for m in messages]
        return out


def draft_from_yaml(text: str, *, cluster: Cluster, form: Draft) -> YamlApplied:
    """The form `text` describes, made of the posted `form`'s boxes where the text refers to them;
    ImportRefused (reasons with line numbers) when the text cannot become the form."""
    program = cluster.get_distro_display()
    parsed = read_registries(text, program)
    if not parsed.mirrors and not parsed.configs and lost_indentation(parsed):
        raise reads_nothing(parsed, text, program)  # applied, it would empty the form
    usable = {s.name: s for s in Secret.objects.usable_by(cluster).only("id", "name", "kind", "username")}
    boxes = _Boxes(parsed, form, usable, cluster.distro)
    if boxes.refusals:
        raise ImportRefused("The text cannot go into the form as it is:", details=boxes.refusals)
    result = boxes.result
    # The form's own checks and K3s's lint errors, as an import lists them: the form marks each field.
    result.problems = boxes.problems(draft_problems(drop_blank_boxes(result.draft), cluster=cluster))
    if parsed.ignored_paths:
        result.warnings.append(printable(f"{program} ignores these keys, so they are not in the form: "
                                         + keys_named(parsed.ignored_paths)))
    return result

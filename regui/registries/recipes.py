"""Recipes: the setups the guides describe (/work/shared/seeds), as boxes for the Registries form.

A recipe fills the form; it saves nothing. One place for what each setup means, in Python, so the
browser only asks for the boxes and appends them. Pure: no Django.

- proxy cache: a Harbor (or any registry with one proxy-cache project per upstream) in front of the
  chosen upstreams; each upstream's mirror points at it and rewrites every name into its project,
  as seed 003 does (`"(^.+$)": "docker.io/$1"`);
- everything: one registry mirroring every registry (`*`);
- air-gapped: a private registry with credentials and a CA, serving its own name and the upstreams;
- plain HTTP: a registry without TLS (`http://` endpoints, no tls block).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .draft import (
    AUTH_CREATE_BASIC,
    AUTH_NONE,
    ConfigBox,
    EndpointRow,
    Errors,
    MirrorBox,
    QueryDict,
    RewriteRow,
    new_token,
    pem_from_bundle,
)
from .validation import check_ca_bundle, check_endpoint, check_hostname, check_rewrite_replacement

UPSTREAMS = ("docker.io", "quay.io", "ghcr.io", "gcr.io", "registry.k8s.io")
# Seed 003's pattern: the whole repository name, as group 1.
WHOLE_NAME = "(^.+$)"
PROJECT_PLACEHOLDER = "{upstream}"
_PROJECT = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]|/(?!/))*")
MAX_UPSTREAMS = 50


@dataclass
class RecipeInput:
    kind: str
    registry: str = ""  # host[:port], or a URL
    upstreams: list[str] = field(default_factory=list)
    project: str = PROJECT_PLACEHOLDER  # the proxy-cache project of an upstream
    auth: str = AUTH_NONE  # AUTH_NONE, AUTH_CREATE_BASIC, or the id of a secret the cluster may use
    username: str = ""
    ca_bundle: str = ""


@dataclass
class Recipe:
    mirrors: list[MirrorBox] = field(default_factory=list)
    configs: list[ConfigBox] = field(default_factory=list)
    errors: Errors = field(default_factory=dict)  # by the recipe form's field name
    # Config boxes whose password the browser copies in from the dialog: it is never sent here.
    password_boxes: list[str] = field(default_factory=list)


def recipe_input(data: QueryDict) -> RecipeInput:
    def text(key: str) -> str:
        return (data.get(key) or "").strip()

    others = re.split(r"[\s,]+", text("upstream_other"))
    upstreams = list(dict.fromkeys(u for u in [*data.getlist("upstream"), *others] if u.strip()))
    return RecipeInput(kind=text("recipe"), registry=text("registry"), upstreams=upstreams,
                       project=text("project") or PROJECT_PLACEHOLDER, auth=text("auth") or AUTH_NONE,
                       username=text("username"), ca_bundle=pem_from_bundle(text("ca_bundle")))


def _add(errors: Errors, key: str, message: str | None) -> None:
    if message:
        errors.setdefault(key, []).append(message)


def _registry(value: str, errors: Errors, *, plain_http: bool = False) -> tuple[str, str]:
    """(endpoint URL, host[:port]) of the registry field: a host, host:port or URL."""
    value = value.rstrip("/")
    if not value:
        _add(errors, "registry", "Give the registry's host name, e.g. harbor.example.com or 10.0.0.5:5000.")
        return "", ""
    scheme, _, rest = value.rpartition("://")
    if plain_http and scheme.lower() == "https":
        _add(errors, "registry", "A plain-HTTP registry is reached over http://, not https://.")
    url = value if scheme else f"{'http' if plain_http else 'https'}://{value}"
    host = rest.split("/", 1)[0]
    _add(errors, "registry", check_endpoint(url) or check_hostname(host))
    return url, host


def _upstreams(data: RecipeInput, errors: Errors, *, required: bool) -> list[str]:
    if required and not data.upstreams:
        _add(errors, "upstream", "Choose at least one upstream registry.")
    if len(data.upstreams) > MAX_UPSTREAMS:
        _add(errors, "upstream", f"At most {MAX_UPSTREAMS} upstreams at once.")
    for name in data.upstreams[:MAX_UPSTREAMS]:
        if name == "*":
            _add(errors, "upstream", "“*” is every registry: use the recipe “One registry mirroring every registry”.")
        else:
            _add(errors, "upstream", check_hostname(name))
    return data.upstreams[:MAX_UPSTREAMS]


def _config(recipe: Recipe, data: RecipeInput, host: str, errors: Errors, *, tls: bool = True) -> None:
    """The registry's own Registry Authentication box, when there is anything to put in it."""
    box = ConfigBox(new_token(), host, auth=data.auth, ca_bundle=data.ca_bundle if tls else "")
    if data.auth == AUTH_CREATE_BASIC:
        box.username = data.username
        _add(errors, "username", None if data.username else "Give the username to create the secret with.")
        recipe.password_boxes.append(box.token)
    _add(errors, "ca_bundle", check_ca_bundle(box.ca_bundle))
    if box.auth != AUTH_NONE or box.ca_bundle:
        recipe.configs.append(box)


def _mirror(host: str, url: str, rewrites: list[tuple[str, str]] | None = None) -> MirrorBox:
    return MirrorBox(new_token(), host, endpoints=[EndpointRow(new_token(), url)],
                     rewrites=[RewriteRow(new_token(), p, r) for p, r in rewrites or []])


def proxy_cache(data: RecipeInput) -> Recipe:
    """One mirror per upstream, all pointing at the proxy cache, each name rewritten into the
    upstream's project (seed 003); the proxy cache's own credentials and CA."""
    recipe = Recipe()
    errors = recipe.errors
    url, host = _registry(data.registry, errors)
    upstreams = _upstreams(data, errors, required=True)
    if len(upstreams) > 1 and PROJECT_PLACEHOLDER not in data.project:
        _add(errors, "project", f"Each upstream needs a project of its own: put {PROJECT_PLACEHOLDER} in the name.")
    for upstream in upstreams:
        project = data.project.replace(PROJECT_PLACEHOLDER, upstream).strip("/")
        if not _PROJECT.fullmatch(project):
            _add(errors, "project", f"“{project}” is not a project path (letters, digits, '.', '_', '-', '/').")
            break
        replacement = f"{project}/$1"
        _add(errors, "project", check_rewrite_replacement(replacement, WHOLE_NAME))
        recipe.mirrors.append(_mirror(upstream, url, [(WHOLE_NAME, replacement)]))
    _config(recipe, data, host, errors)
    return recipe


def mirror_everything(data: RecipeInput) -> Recipe:
    recipe = Recipe()
    url, host = _registry(data.registry, recipe.errors)
    recipe.mirrors.append(_mirror("*", url))
    _config(recipe, data, host, recipe.errors)
    return recipe


def _own_and_upstreams(data: RecipeInput, *, plain_http: bool) -> Recipe:
    """The registry under its own name and in place of each chosen upstream (seed 002's examples)."""
    recipe = Recipe()
    url, host = _registry(data.registry, recipe.errors, plain_http=plain_http)
    names = [host, *(u for u in _upstreams(data, recipe.errors, required=False) if u != host)]
    recipe.mirrors += [_mirror(name, url) for name in names if name]
    _config(recipe, data, host, recipe.errors, tls=not plain_http)
    return recipe


def air_gapped(data: RecipeInput) -> Recipe:
    return _own_and_upstreams(data, plain_http=False)


def plain_http(data: RecipeInput) -> Recipe:
    return _own_and_upstreams(data, plain_http=True)


BUILDERS = {"proxy-cache": proxy_cache, "everything": mirror_everything, "air-gapped": air_gapped,
            "plain-http": plain_http}


def recipe_build(data: RecipeInput) -> Recipe:
    """The boxes of the chosen recipe, or its errors (then no boxes)."""
    builder = BUILDERS.get(data.kind)
    if builder is None:
        return Recipe(errors={"recipe": ["Choose a recipe."]})
    recipe = builder(data)
    return Recipe(errors=recipe.errors) if recipe.errors else recipe

"""One readable name for the secrets regui makes itself, whichever way it makes them (the Registries
page's "Create an … Secret" choices, an import, a recipe): `<cluster>-<registry host>-auth`, then
`-auth-2`, `-auth-3` … when the name is taken. A person reading the Secrets list sees whose it is
and what for, instead of `registryconfig-auth-89f8ee`."""

from __future__ import annotations

import re
from collections.abc import Collection

from .models import Secret

SUFFIX = "-auth"
# Secret.name holds 253 characters: leave room for the suffix and a collision number.
_BASE_MAX = 253 - len(SUFFIX) - len("-99999")


def secret_name_base(cluster_name: str, host: str) -> str:
    """`<cluster>-<host as a slug>`: what K3s calls `*` (the default for every registry) is "default"."""
    slug = "default" if host == "*" else re.sub(r"[^a-z0-9]+", "-", host.lower()).strip("-")
    return f"{cluster_name}-{slug or 'registry'}"[:_BASE_MAX].rstrip("-_")


def secret_name_free(base: str, taken: Collection[str]) -> str:
    """The first of `<base>-auth`, `<base>-auth-2`, `<base>-auth-3` … not in `taken`."""
    name, n = f"{base}{SUFFIX}", 1
    while name in taken:
        n += 1
        name = f"{base}{SUFFIX}-{n}"
    return name


def secret_name_for(cluster_name: str, host: str, *, reserved: Collection[str] = ()) -> str:
    """The name the next secret made for `host` of the cluster gets; `reserved` are names already
    promised to other secrets of the same operation (an import making several)."""
    base = secret_name_base(cluster_name, host)
    taken = set(Secret.objects.filter(name__startswith=f"{base}{SUFFIX}").values_list("name", flat=True))
    return secret_name_free(base, taken | set(reserved))

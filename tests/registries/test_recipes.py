"""Recipes: the setups the seeds describe, as boxes for the Registries form (nothing saved)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from regui.registries.draft import AUTH_CREATE_BASIC, Draft
from regui.registries.recipes import RecipeInput, recipe_build, recipe_input
from regui.registries.render import render_yaml
from regui.registries.selectors import draft_spec
from tests.certs import key_and_cert

SEEDS = Path(__file__).resolve().parents[1] / "data" / "seeds"
SEED_003 = yaml.safe_load((SEEDS / "003-02-heredoc-harbor-proxy-cache-rewrites.yaml").read_text())


class Post(dict):
    """What a form posts, as far as recipe_input reads it."""

    def get(self, key, default=None):
        value = super().get(key, default)
        return value[-1] if isinstance(value, list) else value

    def getlist(self, key):
        value = super().get(key, [])
        return value if isinstance(value, list) else [value]


def rendered(recipe) -> dict:
    spec, _ = draft_spec(Draft(mirrors=recipe.mirrors, configs=recipe.configs), distro="k3s", secrets={},
                         reveal=False)
    return yaml.safe_load(render_yaml(spec, redact=True))


def test_the_proxy_cache_recipe_makes_seed_003s_five_mirrors_from_one_input():
    data = recipe_input(Post(recipe="proxy-cache", registry="harbor.kingsd.top",
                             upstream=["docker.io", "quay.io", "gcr.io", "ghcr.io"], upstream_other="k8s.gcr.io"))
    recipe = recipe_build(data)
    assert not recipe.errors
    assert rendered(recipe) == SEED_003
    # No credentials and no CA: nothing to say about the Harbor host itself.
    assert recipe.configs == [] and recipe.password_boxes == []


def test_the_proxy_cache_gets_one_config_with_a_new_secret_and_its_ca():
    _, cert = key_and_cert("harbor.example.com")
    recipe = recipe_build(RecipeInput(kind="proxy-cache", registry="https://harbor.example.com:8443",
                                      upstreams=["docker.io", "ghcr.io"], project="proxy-{upstream}",
                                      auth=AUTH_CREATE_BASIC, username="robot$k3s", ca_bundle=cert))
    assert not recipe.errors
    [config] = recipe.configs
    assert (config.hostname, config.auth, config.username, config.ca_bundle) == (
        "harbor.example.com:8443", AUTH_CREATE_BASIC, "robot$k3s", cert)
    assert recipe.password_boxes == [config.token], "the browser fills in the password, never the server"
    out = rendered(recipe)
    assert out["mirrors"]["ghcr.io"] == {"endpoint": ["https://harbor.example.com:8443"],
                                         "rewrite": {"(^.+$)": "proxy-ghcr.io/$1"}}
    assert out["configs"]["harbor.example.com:8443"]["auth"]["username"] == "robot$k3s"
    assert out["configs"]["harbor.example.com:8443"]["tls"]["ca_file"].endswith("/harbor.example.com:8443/ca.crt")


@pytest.mark.parametrize("data, field, says", [
    (RecipeInput(kind="proxy-cache", registry="harbor.example.com", upstreams=["docker.io", "quay.io"],
                 project="cache"), "project", "project of its own"),
    (RecipeInput(kind="proxy-cache", registry="harbor.example.com"), "upstream", "at least one upstream"),
    (RecipeInput(kind="proxy-cache", registry="", upstreams=["docker.io"]), "registry", "host name"),
    (RecipeInput(kind="proxy-cache", registry="ftp://harbor.example.com", upstreams=["docker.io"]), "registry",
     "not supported"),
    (RecipeInput(kind="proxy-cache", registry="harbor.example.com", upstreams=["docker.io", "not a host"]),
     "upstream", "not a valid host name"),
    (RecipeInput(kind="proxy-cache", registry="harbor.example.com", upstreams=["*"]), "upstream", "every registry"),
    (RecipeInput(kind="proxy-cache", registry="harbor.example.com", upstreams=["docker.io"], project="a b/{upstream}"),
     "project", "not a project path"),
    (RecipeInput(kind="air-gapped", registry="registry.example.com", auth=AUTH_CREATE_BASIC), "username",
     "username"),
    (RecipeInput(kind="air-gapped", registry="registry.example.com", ca_bundle="not pem"), "ca_bundle", "PEM"),
    (RecipeInput(kind="plain-http", registry="https://registry.example.com"), "registry", "http://"),
    (RecipeInput(kind="nonsense"), "recipe", "Choose a recipe"),
])
def test_a_recipe_with_a_mistake_adds_nothing_and_says_where(data, field, says):
    recipe = recipe_build(data)
    assert recipe.mirrors == [] and recipe.configs == []
    assert says in " ".join(recipe.errors[field])


def test_one_registry_mirroring_everything_is_the_wildcard_mirror():
    recipe = recipe_build(RecipeInput(kind="everything", registry="https://public.kingsd.top/",
                                      auth=AUTH_CREATE_BASIC, username="admin"))
    out = rendered(recipe)
    assert out["mirrors"] == {"*": {"endpoint": ["https://public.kingsd.top"]}}
    assert out["configs"]["public.kingsd.top"]["auth"]["username"] == "admin"


def test_the_air_gapped_registry_serves_its_own_name_and_the_upstreams_with_credentials_and_a_ca():
    _, cert = key_and_cert("registry.example.com")
    recipe = recipe_build(RecipeInput(kind="air-gapped", registry="registry.example.com:5000",
                                      upstreams=["docker.io"], auth=AUTH_CREATE_BASIC, username="pull",
                                      ca_bundle=cert))
    out = rendered(recipe)
    # Seed 002's first example, with the registry named as its images name it (host:port).
    assert out["mirrors"] == {"registry.example.com:5000": {"endpoint": ["https://registry.example.com:5000"]},
                              "docker.io": {"endpoint": ["https://registry.example.com:5000"]}}
    tls = out["configs"]["registry.example.com:5000"]["tls"]
    assert tls == {"ca_file": "/var/lib/rancher/k3s/etc/tls/registries/registry.example.com:5000/ca.crt"}


def test_a_plain_http_registry_has_http_endpoints_and_no_tls():
    recipe = recipe_build(RecipeInput(kind="plain-http", registry="registry.example.com:5000",
                                      upstreams=["docker.io"], auth=AUTH_CREATE_BASIC, username="xxxxxx",
                                      ca_bundle="ignored: no TLS"))
    out = rendered(recipe)
    seed = yaml.safe_load((SEEDS / "002-05-http-with-auth.yaml").read_text())
    assert out["mirrors"]["docker.io"] == seed["mirrors"]["docker.io"]
    assert out["configs"]["registry.example.com:5000"].keys() == {"auth"}
    assert out["mirrors"]["registry.example.com:5000"] == {"endpoint": ["http://registry.example.com:5000"]}


def test_a_plain_http_registry_without_credentials_has_no_config():
    recipe = recipe_build(RecipeInput(kind="plain-http", registry="172.31.19.227:5000"))
    seed = yaml.safe_load((SEEDS / "001-04-heredoc-plain-http-ip-port.yaml").read_text())
    assert rendered(recipe) == seed


def test_the_free_text_upstreams_are_split_and_deduplicated():
    data = recipe_input(Post(recipe="proxy-cache", registry="h.example.com", upstream=["docker.io"],
                             upstream_other="quay.io, docker.io  nvcr.io\n"))
    assert data.upstreams == ["docker.io", "quay.io", "nvcr.io"]

"""The recipe view: the boxes of a recipe, to append to the Registries form; nothing saved."""

from __future__ import annotations

import pytest

from regui.registries.models import Mirror, RegistryConfig, Secret

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_the_recipe_view_answers_boxes_out_of_band_and_saves_nothing(operator_client, cluster):
    r = operator_client.post(f"/clusters/{cluster.name}/registries/recipe/", {
        "recipe": "proxy-cache", "registry": "harbor.example.com", "upstream": ["docker.io", "quay.io"],
        "project": "{upstream}", "auth": "create-basic", "username": "robot"}, **HTMX)
    html = r.content.decode()
    assert r.status_code == 200
    assert 'hx-swap-oob="beforeend:#mirror-boxes"' in html and 'hx-swap-oob="beforeend:#config-boxes"' in html
    assert html.count('class="box mirror-box"') == 2 and html.count('class="box config-box"') == 1
    assert 'value="docker.io/$1"' in html and 'value="(^.+$)"' in html
    token = r.context["recipe"].password_boxes[0]
    assert f'data-password-boxes="{token}"' in html
    assert not Mirror.objects.exists() and not RegistryConfig.objects.exists() and not Secret.objects.exists()


def test_a_recipe_with_mistakes_says_so_in_the_dialog_and_adds_no_box(operator_client, cluster):
    r = operator_client.post(f"/clusters/{cluster.name}/registries/recipe/",
                             {"recipe": "proxy-cache", "registry": "", "project": "{upstream}"}, **HTMX)
    html = r.content.decode()
    assert r.status_code == 400 and 'id="recipe-errors"' in html and "hx-swap-oob" not in html
    assert "Choose at least one upstream" in html
    plain = operator_client.post(f"/clusters/{cluster.name}/registries/recipe/", {"recipe": "?"})
    assert plain.status_code == 400


def test_a_recipe_may_use_only_the_clusters_own_or_shared_secrets(operator_client, cluster, db):
    from regui.registries.models import Cluster

    other = Cluster.objects.create(name="other")
    foreign = Secret.objects.create(name="other-robot", kind="basic", cluster=other)
    own = Secret.objects.create(name="prod-robot", kind="basic", cluster=cluster)
    data = {"recipe": "everything", "registry": "r.example.com"}
    r = operator_client.post(f"/clusters/{cluster.name}/registries/recipe/", {**data, "auth": str(foreign.pk)}, **HTMX)
    assert "Choose one of this cluster&#x27;s secrets" in r.content.decode() and "hx-swap-oob" not in r.content.decode()
    r = operator_client.post(f"/clusters/{cluster.name}/registries/recipe/", {**data, "auth": str(own.pk)}, **HTMX)
    assert f'<option value="{own.pk}" selected>' in r.content.decode()


def test_the_dialog_never_sends_the_password(operator_client, cluster):
    html = operator_client.get(f"/clusters/{cluster.name}/").content.decode()
    assert 'id="recipe-dialog"' in html and "js/recipes.js" in html
    start = html.index('id="recipe-password"')
    tag = html[html.rindex("<input", 0, start):html.index(">", start)]
    assert "name=" not in tag, "a password input without a name is never part of the recipe request"


def test_viewers_get_no_recipe_button(viewer_client, cluster):
    assert 'id="recipe-dialog"' not in viewer_client.get(f"/clusters/{cluster.name}/").content.decode()

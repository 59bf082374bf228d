"""The Registries page's "Add from a recipe": the boxes of a setup the guides describe, to append to
the form (recipes.py makes them; nothing is saved here)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from ..draft import AUTH_CREATE_BASIC, AUTH_NONE
from ..models import Cluster
from ..recipes import recipe_build, recipe_input
from ..selectors import secrets_for_choice


@require_POST
def registries_recipe(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    data = recipe_input(request.POST)
    choices = secrets_for_choice(cluster)
    if data.auth not in (AUTH_NONE, AUTH_CREATE_BASIC) and data.auth not in {str(s.pk) for s in choices["auth"]}:
        recipe_errors = {"auth": ["Choose one of this cluster's secrets, or create one."]}
        recipe = None
    else:
        recipe = recipe_build(data)
        recipe_errors = recipe.errors
    # Errors show in the dialog, which stays open (base.html's htmx-config swaps a 400 into it).
    return render(request, "registries/partials/_recipe_result.html", {
        "cluster": cluster, "recipe": recipe, "recipe_errors": recipe_errors, "errors": {},
        "secret_choices": choices,
    }, status=400 if recipe_errors else 200)

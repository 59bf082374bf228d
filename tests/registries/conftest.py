"""Fixtures shared by the registries tests."""

from __future__ import annotations

import pytest

from regui.registries.models import RegistryConfig, Secret
from regui.registries.services import SecretInput, secret_save

CORP = "registry.corp.example.com"
PW = "Corp-Robot-Password-7Q"


@pytest.fixture
def corp(cluster) -> Secret:
    """The cluster's registry config for CORP, with a password an admin typed (no operator typed it)."""
    secret = secret_save(data=SecretInput(name="corp-robot", kind="basic", username="robot", password=PW,
                                          cluster=cluster))
    RegistryConfig.objects.create(cluster=cluster, hostname=CORP, auth_secret=secret)
    return secret

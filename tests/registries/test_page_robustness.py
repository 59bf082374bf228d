"""Whatever is typed into the Registries page, a save or a preview answers with the page or its
errors: never a server error, on SQLite and on PostgreSQL alike (NULs, surrogates, long values)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.pages import post_registries, previewed, saved_or_explained

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
texts = st.one_of(st.text(max_size=12), st.text(min_size=250, max_size=300), st.sampled_from(
    ["\x00", "a\x00b", "https://m.example.com\x00", "x" * 5000, "docker.io", "https://m.example.com:5000",
     "^rancher/(.*)", "$1", "/etc/ssl/ca.pem", "*", " ", "create-basic", "create-rke", "none"]))
FIELDS = ["m1-hostname", "e1-url", "r1-pattern", "r1-replacement", "c1-hostname", "c1-auth", "c1-username",
          "c1-password", "c1-ca_file", "c1-cert_file", "c1-key_file", "c1-ca_bundle", "message"]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(values=st.fixed_dictionaries({f: texts for f in FIELDS}), action=st.sampled_from(["save", "preview"]))
def test_no_input_makes_the_registries_page_fail(operator_client, cluster, values, action):
    from django.db import transaction

    data = {"revision": str(cluster.revision), "_action": action, "mirror": ["m1"], "m1-endpoint": ["e1"],
            "m1-rewrite": ["r1"], "config": ["c1"], **values}
    with transaction.atomic():
        r = post_registries(operator_client, cluster, data, **HX)
        if action == "preview":
            assert previewed(r), r.status_code
        else:
            saved_or_explained(r)
        transaction.set_rollback(True)


VALID = {"m1-hostname": "docker.io", "e1-url": "https://m.example.com:5000", "r1-pattern": "^rancher/(.*)",
         "r1-replacement": "x/$1", "c1-hostname": "m.example.com:5000", "c1-auth": "create-basic",
         "c1-username": "robot", "c1-password": "pw-1", "message": "ok"}


@pytest.mark.parametrize("field, value", [
    ("c1-username", "u" * 300), ("message", "a\x00b"), ("message", "m" * 900), ("e1-url", "https://m.example.com/\x00"),
    ("c1-password", "p\x00w"), ("r1-replacement", "x/\x00$1"), ("c1-ca_file", "/etc/\x00ca.pem"),
    ("c1-ca_file", "/" + "d" * 5000),
])
def test_a_valid_form_with_one_odd_value_saves_or_says_why(operator_client, cluster, field, value):
    data = {"revision": str(cluster.revision), "_action": "save", "mirror": ["m1"], "m1-endpoint": ["e1"],
            "m1-rewrite": ["r1"], "config": ["c1"], **VALID, field: value}
    r = post_registries(operator_client, cluster, data, **HX)
    if saved_or_explained(r) == "saved":
        cluster.refresh_from_db()
        assert cluster.revision == 1
    else:
        assert cluster.revision == 0 and field in r.content.decode()

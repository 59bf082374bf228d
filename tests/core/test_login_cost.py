"""A login costs one password hash and a few small queries, nothing more (issue 11 item 18).

bench/login.py measures it: on this 2-core machine the POST takes about 195 ms, of which PBKDF2 at
Django's 1,000,000 iterations is about 188 ms and everything else (throttle check, session, last
login, history entry) about 2-7 ms. These tests keep anything else from joining in unnoticed.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client

PASSWORD = "pw-lena-Longer1"


@pytest.fixture
def hashes(monkeypatch):
    """How many times a password is hashed (the tests' hasher: see tests/conftest.py)."""
    counted = []
    encode = MD5PasswordHasher.encode

    def counting(self, password, salt):
        counted.append(password)
        return encode(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting)
    return counted


def _post(username: str, password: str):
    return Client().post("/login/", {"username": username, "password": password})


def test_a_login_hashes_the_password_once_in_a_dozen_queries(make_user, hashes, django_assert_max_num_queries):
    make_user("lena", "viewer")
    hashes.clear()
    with django_assert_max_num_queries(12):
        assert _post("lena", PASSWORD).status_code == 302
    assert len(hashes) == 1


@pytest.mark.parametrize("username", ["lena", "nobody"])
def test_a_failed_login_hashes_once_too(make_user, hashes, username, django_assert_max_num_queries):
    # An unknown name is hashed as well, so that a wrong name takes as long as a wrong password.
    make_user("lena", "viewer")
    hashes.clear()
    with django_assert_max_num_queries(15):
        assert _post(username, "wrong-password").status_code == 400
    assert len(hashes) == 1

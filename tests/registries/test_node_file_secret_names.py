"""A node's registries.yaml can carry a credential where regui shows text: a registry name that is an
alias of a password, a !!binary name that decodes to one, a password written where a name (or an
endpoint, a rewrite, a username, a TLS path) goes. No one who imports it typed the file, and what regui
shows of it (the preview, refusals, warnings, the saved registries, history) must hold no secret
value. So regui reads a node's registry names only as written text (no alias, no tag, no block
scalar), and refuses a node's file that would show a credential of that same file; each reason names
its line, never its text. A file typed or pasted by the importer is theirs to show."""

from __future__ import annotations

import base64

import pytest

from regui.k3s import parse_registries
from regui.registries.import_text import ImportRefused, read_registries, registries_redacted
from regui.registries.node_names import withheld

PW = "tango-alias-pw-5"
B64 = base64.b64encode(PW.encode()).decode()
AUTH = base64.b64encode(f"robot:{PW}".encode()).decode()
CONFIG = f"configs:\n  reg.example.com:\n    auth:\n      username: robot\n      password: &p {PW}\n"

# Each is a file K3s reads; each would show PW (or its base64) where regui shows a name or a value.
HOSTILE = {
    "a mirror name that is an alias of the password": CONFIG + "mirrors:\n  *p :\n    endpoint: [https://m.example.com]\n",
    "a config name that is an alias of the password": CONFIG + "  *p :\n    tls: {insecure_skip_verify: true}\n",
    "a !!binary mirror name that decodes to the password": (
        CONFIG + f"mirrors:\n  !!binary {B64}:\n    endpoint: [https://m.example.com]\n"),
    "a !!binary config name": CONFIG + f"  !!binary {B64}:\n    tls: {{insecure_skip_verify: true}}\n",
    "the password as a config name": CONFIG + f"  {PW}:\n    tls: {{insecure_skip_verify: true}}\n",
    "the password inside a mirror name": CONFIG + f"mirrors:\n  {PW}.example.com:\n    endpoint: [https://m.example.com]\n",
    "the password's base64 as a name": CONFIG + f"mirrors:\n  {B64}:\n    endpoint: [https://m.example.com]\n",
    "the password in upper case as a name": CONFIG + f"mirrors:\n  {PW.upper()}:\n    endpoint: [https://m.example.com]\n",
    "the password inside an auth value, as a name": (
        f"configs:\n  reg.example.com:\n    auth: {{auth: {AUTH}}}\nmirrors:\n  {PW}:\n    endpoint: [https://m.example.com]\n"),
    "an identity token as a name": (
        f"configs:\n  reg.example.com:\n    auth: {{identity_token: {PW}}}\nmirrors:\n  {PW}:\n    endpoint: [https://m]\n"),
    "a password of auths (which K3s ignores) as a name": (
        f"auths:\n  x:\n    password: {PW}\nmirrors:\n  {PW}:\n    endpoint: [https://m.example.com]\n"),
    "an endpoint that is an alias of the password": CONFIG + "mirrors:\n  docker.io:\n    endpoint: [*p]\n",
    "the password inside an endpoint": CONFIG + f"mirrors:\n  docker.io:\n    endpoint: [https://m.example.com/{PW}]\n",
    "a rewrite pattern that is an alias of the password": (
        CONFIG + "mirrors:\n  docker.io:\n    endpoint: [https://m.example.com]\n    rewrite: {*p : x}\n"),
    "a rewrite replacement that is an alias of the password": (
        CONFIG + "mirrors:\n  docker.io:\n    endpoint: [https://m.example.com]\n    rewrite: {x: *p}\n"),
    "a username that is an alias of another password": CONFIG + "  other.example.com:\n    auth: {username: *p, password: y}\n",
    "a TLS path holding the password": CONFIG + f"    tls: {{ca_file: /etc/{PW}.pem}}\n",
}


@pytest.mark.parametrize("what", list(HOSTILE))
def test_a_node_file_that_would_show_a_credential_is_refused_by_line_never_by_text(what):
    with pytest.raises(ImportRefused) as refused:
        read_registries(HOSTILE[what], "K3s", typed=False)
    said = " ".join([str(refused.value), *refused.value.details])
    assert "line " in said
    for secret in (PW, PW.upper(), B64, AUTH, "tango"):
        assert secret not in said


@pytest.mark.parametrize("what", list(HOSTILE))
def test_the_node_file_preview_shows_none_of_it(what):
    shown = registries_redacted(HOSTILE[what], "n1's file")
    assert PW not in shown and B64 not in shown and PW.upper() not in shown
    assert shown.startswith("# regui does not show this file")


@pytest.mark.parametrize("what", list(HOSTILE))
def test_a_file_the_importer_typed_is_theirs_to_show(what):
    read_registries(HOSTILE[what], "K3s")  # no refusal: they wrote it


@pytest.mark.parametrize(("key", "form"), [
    ("!!str docker.io", "a tag"), ("! docker.io", "a tag"), ("? |-\n    docker.io\n  ", "a block scalar"),
    ("*n ", "an alias"),
], ids=["!!str", "bare !", "block scalar", "alias of a name"])
def test_a_node_file_registry_name_is_read_only_as_written_text(key, form):
    """Even a harmless one: an alias, a tag or a block scalar can stand for any value, and telling
    which are harmless would need the value shown to someone to be judged."""
    text = f"mirrors:\n  &n quay.io:\n    endpoint: [https://q]\n  {key}:\n    endpoint: [https://m]\n"
    parsed = parse_registries(text)
    assert parsed.mirrors, "K3s reads it"
    (reason,) = withheld(parsed)
    assert reason.startswith("line 4:") and form in reason and "docker.io" not in reason


def test_the_line_of_an_alias_is_where_the_name_is_not_where_the_password_is():
    (reason,) = withheld(parse_registries(HOSTILE["a mirror name that is an alias of the password"]))
    assert reason.startswith("line 7:")


@pytest.mark.parametrize("text", [
    'mirrors:\n  "*":\n    endpoint: ["https://m.example.com"]\n  \'docker.io\':\n    endpoint: [https://m]\n',
    "mirrors:\n  docker.io: &m\n    endpoint: [https://m.example.com]\n  quay.io: *m\n",
    "mirrors:\n  docker.io:\n    <<: {endpoint: [https://m.example.com]}\n",
    f"configs:\n  reg.example.com:\n    auth: {{username: robot, password: {PW}}}\n    tls: {{ca_file: /etc/ca.pem}}\n"
    "mirrors:\n  reg.example.com:\n    endpoint: [https://reg.example.com]\n",
    # A short password is only withheld where it is the whole name: `io` would refuse every docker.io.
    "configs:\n  docker.io:\n    auth: {username: robot, password: io}\nmirrors:\n  docker.io:\n    endpoint: [https://m]\n",
], ids=["quoted names", "a mirror's value as an alias", "a merge", "the usual file", "a short password"])
def test_a_node_file_written_as_k3s_users_write_it_is_read_as_it_is(text):
    parsed = read_registries(text, "K3s", typed=False)
    assert withheld(parsed) == [] and (parsed.mirrors or parsed.configs)
    assert "# regui does not show" not in registries_redacted(text, "n1's file")


def test_a_short_password_that_is_a_whole_name_is_withheld():
    text = "configs:\n  reg.example.com:\n    auth: {username: robot, password: qy}\nmirrors:\n  QY:\n    endpoint: [https://m]\n"
    assert [r.split(":")[0] for r in withheld(parse_registries(text))] == ["line 5"]


def test_each_line_that_holds_it_is_named_up_to_fifty():
    text = CONFIG + f"mirrors:\n  docker.io:\n    endpoint:\n      - https://{PW}.example.com\n      - https://x/{PW}\n"
    assert [r.split(":")[0] for r in withheld(parse_registries(text))] == ["line 9", "line 10"]
    many = CONFIG + "mirrors:\n" + "".join(f"  m{i}.{PW}:\n    endpoint: [https://m]\n" for i in range(80))
    assert len(withheld(parse_registries(many))) == 50


# The same credential, written so that it reads the same on a page: Unicode's compatibility forms
# (fullwidth letters), another composition of an accent, characters that do not print (a zero-width
# space, a soft hyphen) or marks over its letters.
DISGUISED = {
    "fullwidth letters": "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in PW),
    "a zero-width space inside": PW[:5] + "\u200b" + PW[5:],
    "a soft hyphen inside": PW[:5] + "\u00ad" + PW[5:],
    "a combining mark over a letter": PW[:3] + "\u0332" + PW[3:],
}


@pytest.mark.parametrize("what", list(DISGUISED))
def test_a_credential_written_so_that_it_reads_the_same_is_withheld(what):
    text = CONFIG + f"mirrors:\n  \"{DISGUISED[what]}\":\n    endpoint: [https://m.example.com]\n"
    assert [r.split(":")[0] for r in withheld(parse_registries(text))] == ["line 7"]
    assert registries_redacted(text, "n1's file").startswith("# regui does not show this file")


def test_an_accented_password_is_withheld_however_its_accent_is_composed():
    text = ("configs:\n  reg.example.com:\n    auth: {username: robot, password: \"caf\u00e9-pass\"}\n"
            "mirrors:\n  \"cafe\u0301-pass\":\n    endpoint: [https://m.example.com]\n")
    assert [r.split(":")[0] for r in withheld(parse_registries(text))] == ["line 5"]


def test_an_endpoint_with_credentials_in_it_is_withheld_even_when_they_are_no_auth_of_the_file():
    """`https://bob:pw@host`: K3s's file has no other place for that password, and the import refuses it
    anyway; the preview showed it."""
    text = "mirrors:\n  docker.io:\n    endpoint:\n      - https://m.example.com\n      - \"https://bob:zz-pw-77@m.example.com\"\n"
    (reason,) = withheld(parse_registries(text))
    assert reason.startswith("line 5:") and "zz-pw" not in reason and "bob" not in reason
    shown = registries_redacted(text, "n1's file")
    assert "zz-pw-77" not in shown and shown.startswith("# regui does not show this file")

"""A node's file K3s refuses is refused without quoting a value of it (RegistriesParseError.unquoted): no
one who reads the refusal wrote the file, and the value may be its password. Two of yaml.v2's messages
quote one: an explicit tag its text does not resolve to ("cannot decode !!str `pw` as a !!float") and
an alias of no anchor ("unknown anchor 'pw' referenced"). (An anchor whose value holds itself, "anchor 'pw'
value contains itself", is said without its name too.)"""

from __future__ import annotations

import pytest

from regui.registries.import_text import ImportRefused, read_registries, registries_redacted

PW = "quebec-tag-pw-9"

FILES = {
    "a password tagged !!float": f"configs:\n  r.example.com:\n    auth: {{username: u, password: !!float {PW}}}\n",
    "a password tagged !!timestamp": f"configs:\n  r.example.com:\n    auth: {{password: !!timestamp {PW}}}\n",
    "an alias named as the password, of no anchor": (
        f"configs:\n  r.example.com:\n    auth: {{password: {PW}}}\nmirrors:\n  d:\n    endpoint: [*{PW}]\n"),
}


@pytest.mark.parametrize("what", list(FILES))
def test_a_node_file_k3s_refuses_is_refused_without_its_values(what):
    with pytest.raises(ImportRefused) as refused:
        read_registries(FILES[what], "K3s", typed=False)
    said = " ".join([str(refused.value), *refused.value.details, registries_redacted(FILES[what], "n1's file")])
    assert "would refuse this file" in said and PW not in said and PW[:7] not in said


@pytest.mark.parametrize("what", list(FILES))
def test_a_file_the_importer_typed_is_quoted_to_them(what):
    with pytest.raises(ImportRefused) as refused:
        read_registries(FILES[what], "K3s")
    assert PW in str(refused.value)

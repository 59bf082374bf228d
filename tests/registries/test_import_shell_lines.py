"""A registries.yaml copied from a guide together with the shell around it (a `cat <<EOF` heredoc, a
`root@node:~#` prompt and what the command printed): K3s's parser names a later line than the one at
fault, so the refusal also says which lines are shell, not YAML."""

from __future__ import annotations

import pytest

from regui.registries.import_text import ImportRefused, read_registries

pytestmark = pytest.mark.django_db

HEREDOC = """cat >> /etc/rancher/k3s/registries.yaml <<EOF
mirrors:
  "harbor.example.com":
    endpoint:
      - "https://harbor.example.com"
EOF
systemctl restart k3s
"""

PROMPT = """mirrors:
  docker.io:
    endpoint:
      - https://harbor.example.com
root@ksd-1:~#
root@ksd-1:~# crictl pull rancher/busybox:1.35
Image is up to date for sha256:8aa0a6afef
"""


def refusal(text: str) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        read_registries(text, "K3s")
    return caught.value


def test_a_heredoc_pasted_with_its_cat_command_is_refused_naming_the_shell_lines():
    refused = refusal(HEREDOC)
    assert "K3s would refuse this file" in str(refused)
    assert any("Line 1 is a shell command, not YAML" in d and "<<EOF" in d for d in refused.details)
    assert any(d.startswith("Line 6 ") for d in refused.details), "the heredoc's closing EOF"
    assert any(d.startswith("Line 7 ") for d in refused.details), "systemctl"
    assert any("only the lines of registries.yaml" in d for d in refused.details)


def test_a_shell_prompt_pasted_after_the_file_is_named():
    refused = refusal(PROMPT)
    assert any("Line 5 is a shell prompt" in d for d in refused.details)
    assert any("Line 6 is a shell prompt" in d and "crictl pull" in d for d in refused.details)


def test_yaml_that_is_merely_broken_gets_no_shell_hint():
    refused = refusal("mirrors:\n  docker.io:\n    endpoint: [\n")
    assert refused.details == []


def test_a_key_named_like_a_command_is_not_taken_for_shell():
    refused = refusal("mirrors:\n  cat: x\n  tee:\n  - [\n")
    assert refused.details == []


def test_the_import_page_shows_the_shell_lines_under_the_refusal(operator_client, cluster):
    r = operator_client.post(f"/clusters/{cluster.name}/import/", {"text": HEREDOC})
    html = r.content.decode()
    assert "K3s would refuse this file" in html and "Line 1 is a shell command, not YAML" in html

"""What the node and jump host pages say after a scan of a pinned host (pinning.PinnedHost)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest

from regui.remote import ssh

from .pinning import PinnedHost


def scan_reported(request: HttpRequest, host: PinnedHost, key: ssh.HostKey) -> None:
    """Say which key the host presents now, warning when it is not the approved one."""
    if host.host_key and key.key != host.host_key:
        messages.warning(request, f"{host} now presents {key.type} {key.fingerprint}, not the approved "
                                  f"{host.host_key_type} {host.host_key_fingerprint}. Approve only if "
                                  "you know why it changed.")
    else:
        messages.info(request, f"{host} presents {key.type} {key.fingerprint}.")

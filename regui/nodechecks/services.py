"""Looking at a node's live K3s configuration over the push's SSH path (the same trust gate, host
key and credential): read back the hosts.toml files K3s wrote, and test a pull through them.

Each runs in a Celery task (a pull can take minutes); the views and the end of a push queue them by
their ids only. Results are stored (HostsReadback: the last per node; PullTest: the last few)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from regui.inventory.models import Node
from regui.inventory.services import NodeError, node_target
from regui.inventory.trust import connect_refusal
from regui.k3s import explain_pull, generate_hosts
from regui.k3s.reference import ReferenceError, parse_image
from regui.pushes.models import PushJob, PushResult
from regui.registries.selectors import cluster_render, engine_flags, keyed_render
from regui.remote import ssh, transport
from regui.remote.probe import pull_program, readback_program
from regui.remote.probe_parse import NodeConfig, PullReport, Readback, parse_pull, parse_readback

from .compare import DirComparison, compare_hosts, pull_agreement
from .models import HostsReadback, PullTest, SettingsRead

log = logging.getLogger(__name__)

READBACK_TASK = "regui.hosts_readback_run"
AFTER_PUSH_TASK = "regui.hosts_readback_after_push"
PULL_TASK = "regui.pull_test_run"

# The model field of each flag, on Cluster (the default) and Node (an override, None: the cluster's).
FLAG_FIELDS = {"disable-default-registry-endpoint": "disable_default_registry_endpoint",
               "embedded-registry": "embedded_registry"}
NO_TOOL = ("The node has no pull command regui can use: it looked for {looked}. Nothing was pulled. "
           "Install crictl, or run the test on a node where {program} is installed.")
LOOKED = {"k3s": "`k3s ctr` and `k3s crictl`, then crictl on the PATH",
          "rke2": "/var/lib/rancher/rke2/bin/ctr and /var/lib/rancher/rke2/bin/crictl, then crictl on the PATH"}


class CheckRefused(Exception):
    """Nothing was queued: the message says why (a bad image name, an untrusted node)."""


# --- flags ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EffectiveFlag:
    flag: str
    value: bool
    source: str  # where the value comes from, in words
    note: str = ""


def node_flags(node: Node, config: NodeConfig | None = None) -> dict[str, EffectiveFlag]:
    """Each flag as K3s on the node runs with it: the node's config file (last one to set it) wins,
    then the node's own setting in regui, then its cluster's."""
    out = {}
    for flag, name in FLAG_FIELDS.items():
        node_value: bool | None = getattr(node, name)
        fallback = (EffectiveFlag(flag, node_value, "this node's setting in regui") if node_value is not None
                    else EffectiveFlag(flag, bool(getattr(node.cluster, name)), "the cluster's setting in regui"))
        setting = config.flags.get(flag) if config else None
        if setting is None:
            out[flag] = fallback
        elif setting.value is None:
            out[flag] = EffectiveFlag(flag, fallback.value, fallback.source,
                                      f"{setting.path} sets it to {setting.raw!r}, which K3s does not read as true "
                                      "or false")
        else:
            note = "" if setting.value == fallback.value else f"differs from {fallback.source} ({_on(fallback.value)})"
            out[flag] = EffectiveFlag(flag, setting.value, f"the node's {setting.path}", note)
    return out


def engine_options(node: Node, flags: dict[str, EffectiveFlag]) -> dict[str, bool]:
    """The engine's options for the node: its cluster's, with the agent flags K3s on it runs with."""
    return {**engine_flags(node.cluster), "disable_default_endpoint": flags["disable-default-registry-endpoint"].value,
            "embedded_registry": flags["embedded-registry"].value}


def _on(value: bool) -> str:
    return "on" if value else "off"


def _flags_json(flags: dict[str, EffectiveFlag]) -> dict[str, Any]:
    return {k: asdict(v) for k, v in flags.items()}


# --- running a program on the node ---------------------------------------------------------------


class _NodeFailed(Exception):
    """The program did not run to its end on the node: the message says why, for the check's result."""


def _run_on_node(node: Node, program: str, timeout: float) -> str:
    """The program's stdout, from one SSH exec through the trust gate every connection takes; _NodeFailed
    when the node cannot be reached (NodeError: nothing was sent) or the program exits non-zero."""
    try:
        target = node_target(node)
        session = transport.current().connect(target, timeout=settings.REGUI_SSH_CONNECT_TIMEOUT,
                                              retries=settings.REGUI_SSH_RETRIES, backoff=settings.REGUI_SSH_BACKOFF)
        try:
            out = session.run(ssh.as_root(target, "sh -s"), program.encode(), timeout=timeout)
        finally:
            session.close()
    except (NodeError, ssh.SSHError) as exc:
        raise _NodeFailed(str(exc)) from None
    if out.status != 0:
        raise _NodeFailed(_program_failed(out, node.use_sudo))
    return out.stdout


def _program_failed(out: ssh.ExecResult, sudo: bool) -> str:
    err = out.stderr.strip()
    if sudo and ("a password is required" in err or "sudo:" in err):
        return f"sudo refused to run as root without a password: {err.splitlines()[-1] if err else ''}".strip()
    return f"the program on the node exited with status {out.status}: {err[-500:] or 'no output'}"


def _enqueue(task: str, *args: int) -> None:
    # By name, after the commit: the worker must find the row (ids only: it reads the rest itself).
    transaction.on_commit(lambda: current_app.signature(task, args=list(args)).delay())


def _actor(user: Any) -> str:
    return str(getattr(user, "username", "") or "")


# --- read back hosts.toml ------------------------------------------------------------------------


_Check = TypeVar("_Check", HostsReadback, PullTest, SettingsRead)


def _gate_then_queue(node: Node, task: str, record: Callable[[], tuple[_Check, int]]) -> _Check:
    """Refused at once (CheckRefused) for a node regui may not connect to; else the check's row is
    written by `record`, which also says the id its task takes, and the task queued after the commit."""
    if refusal := connect_refusal(node):
        raise CheckRefused(refusal)
    check, task_arg = record()
    _enqueue(task, task_arg)
    return check


def readback_request(*, node: Node, user: Any = None) -> HostsReadback:
    """Queue a read-back of the node's certs.d; refused at once for a node regui may not connect to."""
    def record() -> tuple[HostsReadback, int]:
        readback, _ = HostsReadback.objects.update_or_create(node=node, defaults={
            "state": HostsReadback.State.QUEUED, "trigger": HostsReadback.Trigger.MANUAL, "job": None,
            "requested_by_name": _actor(user), "requested_at": timezone.now(), "finished_at": None})
        return readback, node.pk

    return _gate_then_queue(node, READBACK_TASK, record)


def _finish(check: _Check, state: str, message: str, **fields: Any) -> _Check:
    """End a read-back, a pull test or a settings read: its state, its message (bounded) and when, plus any fields."""
    check.state, check.message, check.finished_at = state, message[:4000], timezone.now()
    for name, value in fields.items():
        setattr(check, name, value)
    check.save()
    return check


def readback_run(node_id: int, *, job: PushJob | None = None) -> HostsReadback | None:
    """Read the node's certs.d/*/hosts.toml and compare them with what regui predicts for its render
    and flags, byte for byte. The result replaces the node's last one."""
    node = Node.objects.select_related("cluster").filter(pk=node_id).first()
    if node is None:
        return None
    readback, _ = HostsReadback.objects.get_or_create(node=node)
    readback.state, readback.job = HostsReadback.State.RUNNING, job
    if job is not None:
        readback.trigger, readback.requested_by_name = HostsReadback.Trigger.PUSH, job.created_by_name
        readback.requested_at = timezone.now()
    readback.save()
    cluster = node.cluster
    try:
        stdout = _run_on_node(node, readback_program(cluster.distro, cluster.registries_path),
                              timeout=settings.REGUI_SSH_COMMAND_TIMEOUT)
    except _NodeFailed as exc:
        return _finish(readback, HostsReadback.State.FAILED, str(exc))
    report = parse_readback(stdout)
    flags = node_flags(node, report.config)
    render, key = keyed_render(cluster)
    predicted = generate_hosts(render, program=cluster.distro, **engine_options(node, flags))
    fields = {"flags": _flags_json(flags), "revision": cluster.revision}
    if predicted.parse_error:
        return _finish(readback, HostsReadback.State.FAILED,
                       f"regui cannot predict hosts.toml: {cluster.distro} would refuse the cluster's "
                       f"registries.yaml ({predicted.parse_error})", dirs=[], **fields)
    dirs = compare_hosts(predicted.hosts_dirs, report.files, cluster.distro)
    notes = _readback_notes(node, report, key, dirs)
    agrees = all(d.agrees for d in dirs) and not report.errors and not report.too_many
    state = HostsReadback.State.AGREES if agrees else HostsReadback.State.DIFFERS
    return _finish(readback, state, "\n".join(notes), dirs=[_dir_json(d) for d in dirs], **fields)


def _dir_json(d: DirComparison) -> dict[str, Any]:
    return {"name": d.name, "state": d.state, "note": d.note,
            "lines": [[line.kind, line.text, line.old_no, line.new_no] for line in d.lines]}


def _why_not_current(node: Node, sha: str) -> str:
    """In the node list's words: out of date (regui's file, saved since) is not drifted (changed there)."""
    if not node.last_sha256:
        return "regui has not written it yet"
    if sha != node.last_sha256:
        return "drifted: changed on the node since regui last wrote or read it"
    if node.last_sync_key:
        return "out of date: it holds what regui last wrote there, and the registries were saved since; a push " \
               "sends the new file"
    return "regui read it there and has not pushed the current render"


def _readback_notes(node: Node, report: Readback, key: str, dirs: list[DirComparison]) -> list[str]:
    cluster, distro = node.cluster, node.cluster.distro
    notes = list(report.errors)
    if report.too_many:
        notes.append("The node has more certs.d directories than regui reads at once; the rest were not compared.")
    if not report.certs_found:
        notes.append(f"The node has no {distro} certs.d directory: {distro} has not started since it was installed, "
                     "or runs with another data dir.")
    # The current render only when it is what regui wrote or confirmed there (by sync key), never by the
    # bytes alone: that would answer a guess saved in place of a secret (core/fingerprints.py).
    drifted = (report.registries_sha256 != node.last_sha256 or not node.last_sync_key
               or node.last_sync_key != key)
    if not report.registries_sha256:
        notes.append(f"The node has no {cluster.registries_path}.")
    elif drifted:
        notes.append(f"The node's {cluster.registries_path} is not the cluster's current render "
                     f"({_why_not_current(node, report.registries_sha256)}): differences may come from that file, "
                     "not from K3s.")
    stale = bool(report.files) and report.registries_mtime > max(f.mtime for f in report.files)
    if stale:
        notes.append(f"{cluster.registries_path} changed after {distro} last wrote certs.d: it reads the file only "
                     f"when it starts. Restart {node.service} to apply it.")
    differs = any(not d.agrees for d in dirs)
    if not differs and not notes:
        notes.append(f"{distro} wrote exactly the hosts.toml files regui predicts.")
    elif differs and report.certs_found and not drifted and not stale:
        notes.append(f"registries.yaml is the current render and {distro} read it after it was written: this {distro} "
                     "version generates hosts.toml differently from regui's model, or runs with other flags than "
                     "the ones shown.")
    return notes


def readbacks_after_push_queue(job_id: int) -> bool:
    """Queue the read-backs after a push, if it restarted or wrote to a node (and the setting is on)."""
    if not settings.REGUI_READBACK_AFTER_PUSH:
        return False
    touched = Q(restarted=True) | Q(status=PushResult.Status.CHANGED)
    if not PushResult.objects.filter(touched, job_id=job_id, job__kind=PushJob.Kind.PUSH).exists():
        return False
    _enqueue(AFTER_PUSH_TASK, job_id)
    return True


def readbacks_after_push(job_id: int) -> list[HostsReadback]:
    """After a push: read back every node it restarted; for a node written without a restart, say the
    read-back waits for one (K3s rewrites hosts.toml only when it starts)."""
    job = PushJob.objects.filter(pk=job_id).first()
    if job is None or job.kind != PushJob.Kind.PUSH:
        return []
    done = []
    for result in job.results.filter(node__isnull=False).select_related("node__cluster"):
        node = result.node
        assert node is not None
        try:
            if result.restarted:
                if (readback := readback_run(node.pk, job=job)) is not None:
                    done.append(readback)
            elif result.status == PushResult.Status.CHANGED:
                readback, _ = HostsReadback.objects.get_or_create(node=node)
                readback.trigger, readback.job = HostsReadback.Trigger.PUSH, job
                readback.requested_by_name, readback.requested_at = job.created_by_name, timezone.now()
                done.append(_finish(
                    readback, HostsReadback.State.PENDING,
                    f"Push #{job.pk} wrote registries.yaml without a restart (write only): {node.cluster.distro} "
                    f"rewrites hosts.toml when {node.service} restarts. Read back after the restart."))
        except Exception:  # one node's failure must not keep the others unread
            log.exception("reading back hosts.toml of node %s after push %s failed", result.node_name, job.pk)
    return done


# --- test a pull ---------------------------------------------------------------------------------


def pull_test_create(*, node: Node, image: str, keep: bool = False, tool: str = PullTest.Tool.AUTO,
                     user: Any = None) -> PullTest:
    """Queue a pull of `image` on the node; refused at once for a bad name or an untrusted node."""
    try:
        ref = parse_image(image.strip())
    except ReferenceError as exc:
        raise CheckRefused(f"Not an image reference: {exc}") from None
    if tool not in PullTest.Tool.values:
        raise CheckRefused(f"Unknown pull command {tool!r}.")

    def record() -> tuple[PullTest, int]:
        test = PullTest.objects.create(node=node, image=str(ref), keep=keep, tool=tool,
                                       requested_by_name=_actor(user))
        old = PullTest.objects.filter(node=node).values_list("pk", flat=True)[PullTest.KEPT:]
        PullTest.objects.filter(pk__in=list(old)).delete()
        return test, test.pk

    return _gate_then_queue(node, PULL_TASK, record)


def pull_test_run(test_id: int) -> PullTest | None:
    """Pull the image on the node through the hosts dir K3s wrote, and compare which hosts its
    resolver tried with "Explain a pull" for the node's flags."""
    test = PullTest.objects.select_related("node__cluster").filter(pk=test_id).first()
    if test is None or not test.is_active:
        return test
    test.state, test.started_at = PullTest.State.RUNNING, timezone.now()
    test.save(update_fields=["state", "started_at"])
    node, cluster = test.node, test.node.cluster
    limit = settings.REGUI_PULL_TEST_TIMEOUT
    try:
        stdout = _run_on_node(node, pull_program(cluster.distro, test.image, keep=test.keep, tool=test.tool,
                                                 timeout=limit), timeout=limit + settings.REGUI_SSH_COMMAND_TIMEOUT)
    except _NodeFailed as exc:
        return _finish(test, PullTest.State.FAILED, str(exc))
    report = parse_pull(stdout)
    flags = node_flags(node, report.config)
    fields: dict[str, Any] = {"flags": _flags_json(flags), "used_tool": report.tool, "command": report.command[:300]}
    if report.tool in ("", "none"):
        looked = LOOKED.get(cluster.distro, LOOKED["k3s"])
        return _finish(test, PullTest.State.FAILED, NO_TOOL.format(looked=looked, program=cluster.distro),
                       **fields)
    prediction = explain_pull(cluster_render(cluster), test.image, program=cluster.distro,
                              **engine_options(node, flags))
    agreement = pull_agreement(prediction, report.tries, pulled=report.pulled, tool=report.tool)
    rows = [{"predicted": r.predicted, "role": r.role, "matches": r.matches, "needs_credentials": r.needs_credentials,
             "observed": asdict(r.observed) if r.observed else None} for r in agreement.rows]
    output = "\n".join(report.tail) or report.final_error
    return _finish(test, PullTest.State.DONE, _pull_message(test, report, node), pulled=report.pulled,
                   served_by=agreement.served_by[:2000], image_outcome=report.image, output=output[:8000],
                   agreement=agreement.state, agreement_text=agreement.text, rows=rows, **fields)


def _pull_message(test: PullTest, report: PullReport, node: Node) -> str:
    parts = []
    if not report.certs_found:
        parts.append(f"The node has no {node.cluster.distro} certs.d directory: the pull used no mirror configuration.")
    if report.timed_out:
        parts.append(f"The pull was stopped after {settings.REGUI_PULL_TEST_TIMEOUT} s.")
    elif report.pulled:
        parts.append(f"{report.command} pulled {test.image}.")
    else:
        parts.append(f"{report.command} could not pull {test.image} (exit status {report.status}).")
    parts.append({"removed": "It was removed again.",
                  "kept": "It was kept on the node, as asked.",
                  "was-present": "It was on the node before the test, so it was left there.",
                  "remove-failed": "Removing it again failed: it is still on the node."}.get(report.image, ""))
    if report.tool == "ctr":
        parts.append("ctr pulls without registry credentials (K3s gives them to containerd's CRI only).")
    return " ".join(p for p in parts if p) + "".join(f"\n{e}" for e in report.errors)

"""The rolling plan, pure (regui/pushes/plan.py): order, batches, chunks, expected restarts, the summary
a page shows. No database."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regui.pushes.plan import Policy, batch_size, parse_at_once, push_plan, split

K3S, RKE2 = SimpleNamespace(distro="k3s"), SimpleNamespace(distro="rke2")


@dataclass
class N:
    name: str
    role: str = "agent"
    last_sync_key: str = ""
    restart_pending: bool = False


def fleet(servers: int, agents: int) -> list[N]:
    return [N(f"s{i}", "server") for i in range(servers, 0, -1)] + [N(f"a{i:02}") for i in range(1, agents + 1)]


def test_servers_go_first_one_per_step_in_name_order_then_agents_in_batches():
    plan = push_plan(K3S, fleet(3, 5), Policy(agents_at_once="2"))
    assert [s.nodes for s in plan.steps] == [("s1",), ("s2",), ("s3",), ("a01", "a02"), ("a03", "a04"), ("a05",)]
    assert [s.role for s in plan.steps] == ["server"] * 3 + ["agent"] * 3
    assert plan.batch == 2 and plan.rolling and (plan.servers, plan.agents) == (3, 5)


@pytest.mark.parametrize(("at_once", "agents", "batch"), [
    ("25%", 97, 25), ("10%", 5, 1), ("100%", 40, 40), ("1%", 1, 1), ("33%", 10, 4), ("7", 3, 7), (" 12 ", 50, 12)])
def test_agents_at_once_is_a_number_or_a_percentage_of_the_agents_rounded_up(at_once, agents, batch):
    assert batch_size(at_once, agents) == batch


@pytest.mark.parametrize("text", ["", "0", "0%", "101%", "ten", "5.5", "-3", "10 %%", "²", "٣", "100000"])
def test_agents_at_once_refuses_what_is_neither(text):
    with pytest.raises(ValueError):
        parse_at_once(text)


def test_a_pause_comes_before_every_step_but_the_first_and_only_when_restarting():
    plan = push_plan(K3S, fleet(1, 2), Policy(agents_at_once="1", pause_seconds=30))
    assert [s.pause_before for s in plan.steps] == [0, 30, 30]
    written = push_plan(K3S, fleet(1, 2), Policy(agents_at_once="1", pause_seconds=30), restart=False)
    assert [s.pause_before for s in written.steps] == [0, 0, 0] and not written.rolling


def test_a_drift_check_reads_every_node_in_batches_servers_first_with_no_roll():
    plan = push_plan(K3S, fleet(2, 3), Policy(agents_at_once="4"), kind="drift")
    assert [s.nodes for s in plan.steps] == [("s1", "s2", "a01", "a02"), ("a03",)]
    assert {s.role for s in plan.steps} == {""} and not plan.rolling and plan.expected_restarts == ()


def test_steps_split_into_even_chunks_numbered_across_the_plan():
    plan = push_plan(K3S, fleet(1, 30), Policy(agents_at_once="100%"), chunk_size=25)
    assert [len(c) for s in plan.steps for c in s.chunks] == [1, 15, 15]
    assert plan.chunk_of("s1") == 0 and plan.chunk_of("a01") == 1 and plan.chunk_of("a30") == 2
    assert plan.chunk_count == 3 and plan.step_of("a30") == 1


@given(st.integers(0, 400), st.integers(1, 60))
def test_a_split_keeps_every_name_in_order_in_parts_no_larger_than_asked(n, size):
    names = [f"n{i}" for i in range(n)]
    parts = split(names, size)
    assert [x for p in parts for x in p] == names
    assert all(1 <= len(p) <= size for p in parts)
    assert not parts or max(map(len, parts)) - min(map(len, parts)) <= 1


def test_expected_restarts_are_the_nodes_whose_file_changes_or_that_owe_a_restart():
    nodes = [N("s1", "server", "new"), N("a1", last_sync_key="old"), N("a2", last_sync_key="new"),
             N("a3", last_sync_key="new", restart_pending=True), N("a4")]
    plan = push_plan(K3S, nodes, Policy(), target_key="new")
    assert plan.expected_restarts == ("a1", "a3", "a4") and plan.restarts_known
    assert "Expected restarts: 3 of 5." in plan.summary()
    unknown = push_plan(K3S, nodes, Policy())
    assert len(unknown.expected_restarts) == 5 and "Up to 5 restarts:" in unknown.summary()
    assert push_plan(K3S, nodes, Policy(), restart=False, target_key="new").expected_restarts == ()


def test_the_summary_says_the_order_the_batches_and_what_stops_the_push():
    text = push_plan(RKE2, fleet(3, 97), Policy("10", max_failures=3, pause_seconds=5, ready_gate=True)).summary()
    assert text.startswith("3 servers one at a time, then 97 agents in 10 batches of up to 10.")
    assert "Pause 5 s" in text and "Stop after 3 failed nodes:" in text and "stops the servers after it" in text
    assert "rke2-server / rke2-agent, then Ready in Kubernetes" in text
    assert "A failed agent does not stop the others." in push_plan(K3S, fleet(0, 2), Policy()).summary()


def test_a_policy_travels_as_a_dict_and_fills_what_is_missing():
    policy = Policy("25%", 2, 10, True)
    assert Policy.from_dict(policy.as_dict()) == policy
    assert Policy.from_dict({}, default_at_once="7") == Policy("7", 0, 0, False)

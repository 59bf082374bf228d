"""A rolling push opens the next step's connections while this step's nodes restart, not while they
log in and write (issue 13 item 6): the handshakes' CPU then does not lengthen the step."""

from __future__ import annotations

from regui.pushes.preconnect import RestartWatch


class _Ahead:
    def __init__(self) -> None:
        self.told: list[int] = []

    def sent(self, node_id: int) -> None:
        self.told.append(node_id)


def test_the_watch_tells_once_when_the_program_says_it_restarts():
    ahead = _Ahead()
    watch = RestartWatch(ahead, 7)  # type: ignore[arg-type]
    watch(b"BEFORE /etc/rancher/k3s/registries.yaml -\nAFTER /etc/rancher/k3s/registries.yaml 12ab\n")
    assert ahead.told == []
    watch(b"RESULT changed\nRESTA")
    assert ahead.told == [], "half of the line is not the line"
    watch(b"RT k3s-agent\n")
    watch(b"ACTIVE active\nRESTART again\n")
    assert ahead.told == [7]


def test_a_word_that_only_starts_like_the_mark_is_not_taken_for_it():
    ahead = _Ahead()
    watch = RestartWatch(ahead, 1)  # type: ignore[arg-type]
    watch(b"WARNING RESTART is not at the start of this line\nKEPT /x/RESTART y\n")
    assert ahead.told == []


def test_the_next_steps_handshake_waits_until_this_steps_node_restarts(fleet, fake_ssh):
    fleet.add("server", "server")
    for node in fleet.fake.nodes.values():
        node.set_systemctl(restart_seconds=0.4)
    # s1 takes its time before the restart (as a loaded node does to log in and write): 0.3 s
    fleet["s1"].shell = ["sh", "-c", "sleep 0.3; exec sh -s"]
    job = fleet.push()
    assert job.status == "done"
    (restart,) = fleet["s1"].restarts()
    (s1,) = [e.span for e in fake_ssh.execs() if e.node == "s1"]
    (opened,) = fleet["s2"].handshakes
    assert restart.span.start - 0.1 <= opened < restart.span.end, "opened during s1's restart, not before"
    assert opened < s1.end
    assert len(fleet["s2"].connects) == 1

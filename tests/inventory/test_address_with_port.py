"""An address typed with its port (10.0.0.5:2222, node-1:22) is refused with the fix in its own terms:
the address alone here, the port in the Port field. It said "Not an IPv6 address", which is not what
the person typed or meant."""

from __future__ import annotations

import pytest

from regui.inventory.addresses import address_problem


@pytest.mark.parametrize("typed,host,port", [("10.0.0.5:2222", "10.0.0.5", "2222"), ("node-1.example.com:22",
                                                                                      "node-1.example.com", "22")])
def test_an_address_with_a_port_says_where_each_part_goes(typed, host, port):
    problem = address_problem(typed)
    assert f"enter {host} here and {port} in the Port field" in problem and "IPv6" not in problem


def test_an_ipv6_address_is_still_taken_and_a_broken_one_still_refused():
    assert address_problem("fd00::5") == "" and address_problem("[fd00::5]") == ""
    assert "Not an IPv6 address" in address_problem("fd00::5::6")

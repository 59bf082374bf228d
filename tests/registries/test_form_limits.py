"""The Registries page and the import hold regui's limits: a form or file past one is answered with
the reason (next to the field, or instead of the tabs) without the work, and one just within is
worked on as usual."""

from __future__ import annotations

import html
from urllib.parse import urlencode

import pytest

from regui.k3s.limits import (
    MAX_CONFIGS,
    MAX_ENDPOINTS,
    MAX_EXPANDED_BYTES,
    MAX_MIRRORS,
    MAX_PATTERN_CHARS,
    MAX_REWRITE_COPIES_BYTES,
    MAX_REWRITES,
    MAX_REWRITES_TOTAL,
    MAX_VALUE_CHARS,
)
from regui.registries.draft import (
    AUTH_CREATE_RKE,
    MAX_POST_BYTES,
    ConfigBox,
    Draft,
    EndpointRow,
    MirrorBox,
    RewriteRow,
    draft_limits,
)
from regui.registries.importing import ImportRefused, registries_import
from regui.registries.models import Mirror

HX = {"HTTP_HX_REQUEST": "true"}


def draft(mirrors: int = 1, endpoints: int = 1, rewrites: int = 0, configs: int = 0, url: str = "",
          pattern: str = "", replacement: str = "x/$1") -> Draft:
    return Draft(
        mirrors=[MirrorBox(f"m{m}", f"reg{m}.example.com",
                           endpoints=[EndpointRow(f"m{m}e{e}", url or f"https://m{m}-{e}.example.com")
                                      for e in range(endpoints)],
                           rewrites=[RewriteRow(f"m{m}r{r}", pattern or f"^t{r:02}/(.*)", replacement)
                                     for r in range(rewrites)]) for m in range(mirrors)],
        configs=[ConfigBox(f"c{c}", f"h{c}.example.com", ca_file="/c") for c in range(configs)],
    )


def long_endpoints(count: int) -> Draft:
    """`count` endpoints of 8000 characters, as many to a mirror as allowed."""
    url = "https://m.example.com/" + "p" * (8000 - 22 - 4)
    return Draft(mirrors=[MirrorBox(f"m{m}", f"reg{m}.example.com", endpoints=[
        EndpointRow(f"m{m}e{e}", f"{url}{m:02}{e:02}") for e in range(min(MAX_ENDPOINTS, count - m * MAX_ENDPOINTS))])
        for m in range(-(-count // MAX_ENDPOINTS))])


# limit: (a draft just within it, the same just past it, the slot of the error; None: an endpoint's)
EACH = MAX_REWRITE_COPIES_BYTES // (MAX_ENDPOINTS * MAX_REWRITES)
CASES = {
    "mirrors": (draft(MAX_MIRRORS), draft(MAX_MIRRORS + 1), f"m{MAX_MIRRORS}-hostname"),
    "configs": (draft(0, configs=MAX_CONFIGS), draft(0, configs=MAX_CONFIGS + 1), f"c{MAX_CONFIGS}-hostname"),
    "endpoints per mirror": (draft(1, MAX_ENDPOINTS), draft(1, MAX_ENDPOINTS + 1), f"m0e{MAX_ENDPOINTS}-url"),
    "rewrites per mirror": (draft(1, 1, MAX_REWRITES), draft(1, 1, MAX_REWRITES + 1), f"m0r{MAX_REWRITES}-pattern"),
    "rewrites in all": (draft(MAX_REWRITES_TOTAL // 10, 1, 10), draft(MAX_REWRITES_TOTAL // 10 + 1, 1, 10),
                        f"m{MAX_REWRITES_TOTAL // 10}r0-pattern"),
    "value length": (draft(url="https://m.example.com/" + "p" * (MAX_VALUE_CHARS - 22)),
                     draft(url="https://m.example.com/" + "p" * (MAX_VALUE_CHARS - 21)), "m0e0-url"),
    "pattern length": (draft(1, 1, 1, pattern="^" + "a" * (MAX_PATTERN_CHARS - 1)),
                       draft(1, 1, 1, pattern="^" + "a" * MAX_PATTERN_CHARS), "m0r0-pattern"),
    # Patterns of 9 characters: the copies come to just under, then just over, the limit.
    "rewrite copies": (draft(1, MAX_ENDPOINTS, MAX_REWRITES, replacement="r" * (EACH - 9)),
                       draft(1, MAX_ENDPOINTS, MAX_REWRITES, replacement="r" * (EACH - 8)), "m0-hostname"),
    "text in all": (long_endpoints(int(MAX_EXPANDED_BYTES * 0.95) // 8000),
                    long_endpoints(MAX_EXPANDED_BYTES // 8000 + 1), None),
}


@pytest.mark.parametrize("limit", sorted(CASES))
def test_a_draft_at_the_limit_has_no_limit_error(limit):
    within, _past, _slot = CASES[limit]
    assert draft_limits(within) == {}


@pytest.mark.parametrize("limit", sorted(CASES))
def test_a_draft_past_the_limit_gets_an_error_next_to_the_first_field_beyond_it(limit):
    _within, past, slot = CASES[limit]
    errors = draft_limits(past)
    assert len(errors) == 1, errors
    if slot is None:
        [slot] = errors
        assert slot.endswith("-url")
    assert list(errors) == [slot]
    assert "regui" in errors[slot][0] or errors[slot][0].startswith(f"At most {MAX_VALUE_CHARS} characters"), errors


def test_an_rke_auth_config_counts_the_base64_it_is_written_as():
    box = ConfigBox("c0", "h.example.com", auth=AUTH_CREATE_RKE, username="u", password="p" * (MAX_VALUE_CHARS - 10))
    assert list(draft_limits(Draft(configs=[box]))) == ["c0-password"]


def form(d: Draft, **extra) -> dict:
    data: dict = {"revision": "0", "mirror": [m.token for m in d.mirrors], "config": [c.token for c in d.configs]}
    for m in d.mirrors:
        data[f"{m.token}-hostname"] = m.hostname
        data[f"{m.token}-endpoint"] = [e.token for e in m.endpoints]
        data.update({f"{e.token}-url": e.url for e in m.endpoints})
        data[f"{m.token}-rewrite"] = [r.token for r in m.rewrites]
        for r in m.rewrites:
            data[f"{r.token}-pattern"], data[f"{r.token}-replacement"] = r.pattern, r.replacement
    for c in d.configs:
        data.update({f"{c.token}-hostname": c.hostname, f"{c.token}-ca_file": c.ca_file})
    return {**data, **extra}


def post(client, cluster, action: str, data: dict):
    return client.post(f"/clusters/{cluster.name}/registries/{action}/", urlencode(data, doseq=True),
                       content_type="application/x-www-form-urlencoded", **HX)


@pytest.fixture
def no_engine(monkeypatch):
    """Fail the test if the insight tabs reach the engine."""

    def refuse(*args, **kwargs):
        raise AssertionError("the engine was asked to work on a draft past the limits")

    monkeypatch.setattr("regui.registries.views.registries_page.draft_insight", refuse)


@pytest.mark.django_db
def test_the_tabs_say_why_instead_of_analysing_a_draft_past_a_limit(viewer_client, cluster, no_engine):
    page = html.unescape(post(viewer_client, cluster, "insight", form(draft(MAX_MIRRORS + 1))).content.decode())
    assert page.count(f"Not analysed: regui works on at most {MAX_MIRRORS} mirrors") == 3  # one per tab


@pytest.mark.django_db
def test_the_tabs_analyse_a_draft_at_the_limits(viewer_client, cluster):
    page = post(viewer_client, cluster, "insight", form(draft(1, MAX_ENDPOINTS, MAX_REWRITES))).content.decode()
    assert "Not analysed" not in page and "certs.d/reg0.example.com/hosts.toml" in page


@pytest.mark.django_db
def test_a_save_past_a_limit_saves_nothing_and_says_why_next_to_the_field(operator_client, cluster):
    answer = post(operator_client, cluster, "save", form(draft(1, MAX_ENDPOINTS + 1))).content.decode()
    assert "Nothing was saved" in answer and f"m0e{MAX_ENDPOINTS}-url" in answer
    assert not Mirror.objects.filter(cluster=cluster).exists()


@pytest.mark.parametrize("action, says", [("insight", 'id="lint-count"'), ("preview", "field-errors-preview"),
                                          ("save", "Nothing was saved: the form is too big")])
@pytest.mark.django_db
def test_a_form_past_the_body_limit_is_answered_unread(operator_client, cluster, monkeypatch, action, says):
    def unread(*args, **kwargs):
        raise AssertionError("the form was read")

    monkeypatch.setattr("regui.registries.views.registries_page.draft_from_post", unread)
    big = form(draft(), message="m" * MAX_POST_BYTES)
    answer = html.unescape(post(operator_client, cluster, action, big).content.decode())
    assert says in answer and f"regui reads at most {MAX_POST_BYTES // 1024 // 1024} MiB" in answer


@pytest.mark.django_db
def test_a_form_just_under_the_body_limit_is_read(operator_client, cluster):
    data = form(draft(), message="m")
    data["message"] = "m" * (MAX_POST_BYTES - len(urlencode(data, doseq=True)) + 1)
    assert len(urlencode(data, doseq=True)) == MAX_POST_BYTES
    assert post(operator_client, cluster, "save", data).get("X-Regui-Saved")


@pytest.mark.django_db
def test_an_import_past_a_limit_is_refused_with_the_line_and_the_reason(cluster):
    big = "a" * 4000
    text = f'x: &big "{big}"\nmirrors:\n' + "".join(f"  r{i}.example.com:\n    endpoint: [*big]\n" for i in range(500))
    with pytest.raises(ImportRefused) as refused:
        registries_import(cluster=cluster, text=text, replace=True)
    assert str(refused.value).startswith("regui does not import this file (line ")
    assert "is used 500 times" in str(refused.value) and refused.value.line
    assert not Mirror.objects.filter(cluster=cluster).exists()


@pytest.mark.django_db
def test_an_import_that_would_take_the_cluster_past_a_limit_is_refused_unless_it_replaces(cluster):
    def file(first: int, count: int) -> str:
        return "mirrors:\n" + "".join(f"  r{i}.example.com:\n    endpoint: [https://m{i}.example.com]\n"
                                      for i in range(first, first + count))

    registries_import(cluster=cluster, text=file(0, MAX_MIRRORS - 1), replace=True)
    with pytest.raises(ImportRefused) as refused:
        registries_import(cluster=cluster, text=file(MAX_MIRRORS, 2), replace=False)
    assert "beyond regui's limits" in str(refused.value) and refused.value.details
    assert Mirror.objects.filter(cluster=cluster).count() == MAX_MIRRORS - 1
    registries_import(cluster=cluster, text=file(MAX_MIRRORS, 2), replace=True)
    assert Mirror.objects.filter(cluster=cluster).count() == 2

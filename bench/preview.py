"""Live-preview cost for a big cluster: 200 mirrors (3 endpoints, 2 rewrites each) and 200 configs.

Prints the preview request time, its ratio to yaml.safe_dump of the same data (target <= 3x) and
the SQL query count (target: constant, <= 15, whatever the size).
"""

from __future__ import annotations

from _django import best, setup


def build(n: int):
    from django.contrib.auth.models import User

    from regui.core.services import user_set_role
    from regui.registries.models import Cluster, Mirror, RegistryConfig, Secret

    cluster = Cluster.objects.create(name=f"big-{n}")
    secrets = []
    for i in range(n):
        s = Secret(name=f"s-{n}-{i}", kind="basic", username=f"user{i}", cluster=cluster)
        s.seal({"password": f"pw-{i}"})
        secrets.append(s)
    Secret.objects.bulk_create(secrets)
    secrets = list(Secret.objects.filter(name__startswith=f"s-{n}-"))
    Mirror.objects.bulk_create(
        Mirror(cluster=cluster, position=i, hostname=f"registry{i}.example.com:5000",
               endpoints=[f"https://m{i}-{j}.example.com:5000" for j in range(3)],
               rewrites=[[f"^team{i}/(.*)", f"mirror/team{i}/$1"], [f"^lib{i}/(.*)", f"mirror/lib{i}/$1"]])
        for i in range(n)
    )
    RegistryConfig.objects.bulk_create(
        RegistryConfig(cluster=cluster, position=i, hostname=f"m{i}-0.example.com:5000", auth_secret=secrets[i],
                       insecure_skip_verify=bool(i % 2))
        for i in range(n)
    )
    user, _ = User.objects.get_or_create(username="bench")
    user_set_role(user=user, role="operator")
    return cluster, user


def post_data(cluster) -> dict:
    from regui.registries.selectors import draft_from_cluster

    draft = draft_from_cluster(cluster)
    data: dict = {"revision": str(draft.revision), "mirror": [], "config": []}
    for m in draft.mirrors:
        data["mirror"].append(m.token)
        data[f"{m.token}-hostname"] = m.hostname
        data[f"{m.token}-endpoint"] = [e.token for e in m.endpoints]
        data.update({f"{e.token}-url": e.url for e in m.endpoints})
        data[f"{m.token}-rewrite"] = [r.token for r in m.rewrites]
        for r in m.rewrites:
            data[f"{r.token}-pattern"], data[f"{r.token}-replacement"] = r.pattern, r.replacement
    for c in draft.configs:
        data["config"].append(c.token)
        data.update({f"{c.token}-hostname": c.hostname, f"{c.token}-auth": c.auth})
        if c.insecure_skip_verify:
            data[f"{c.token}-insecure_skip_verify"] = "1"
    return data


def plain(cluster) -> dict:
    return {
        "mirrors": {m.hostname: {"endpoint": m.endpoints, "rewrite": dict(m.rewrites)} for m in cluster.mirrors.all()},
        "configs": {c.hostname: {"auth": {"username": c.auth_secret.username, "password": "x"},
                                 "tls": {"insecure_skip_verify": c.insecure_skip_verify}}
                    for c in cluster.configs.select_related("auth_secret")},
    }


def measure(n: int) -> None:
    import yaml
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    cluster, user = build(n)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    url, preview_url = f"/clusters/{cluster.name}/", f"/clusters/{cluster.name}/registries/preview/"
    data = post_data(cluster)
    with CaptureQueriesContext(connection) as q:
        r = client.post(preview_url, data, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and b"registry0.example.com" in r.content, r.status_code
    preview_queries = len(q.captured_queries)
    with CaptureQueriesContext(connection) as qpage:
        page = client.get(url)
    assert page.status_code == 200
    page_queries = len(qpage.captured_queries)
    preview_best, preview_median = best(lambda: client.post(preview_url, data, HTTP_HX_REQUEST="true"), 7)
    page_best, _ = best(lambda: client.get(url), 5)
    doc = plain(cluster)
    dump_best, _ = best(lambda: yaml.safe_dump(doc, sort_keys=False), 7)
    print(f"{n} mirrors + {n} configs:")
    print(f"  preview request   best {preview_best * 1000:8.1f} ms  median {preview_median * 1000:8.1f} ms"
          f"  queries {preview_queries}")
    print(f"  full page (GET)   best {page_best * 1000:8.1f} ms  queries {page_queries}")
    print(f"  yaml.safe_dump    best {dump_best * 1000:8.1f} ms")
    print(f"  ratio preview / safe_dump = {preview_best / dump_best:.2f}  (target <= 3)")



def main() -> None:
    setup()
    from django.core.signals import request_started
    from django.db import reset_queries

    # Django clears the query log at each request start; keep it so the count covers the request.
    request_started.disconnect(reset_queries)

    for n in (10, 200):
        measure(n)


if __name__ == "__main__":
    main()

from tests.pushes.conftest import fleet, nodes, push_worker, stack  # noqa: F401  (fast push stack; real nodes and worker)

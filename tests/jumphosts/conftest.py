from tests.pushes.conftest import fleet  # noqa: F401  (the fast push stack)

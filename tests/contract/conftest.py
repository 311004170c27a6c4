"""The contract suites' fixtures: an adapter per role, running (fakes mounted, accounts connected)."""

import pytest

from .engine import Env


@pytest.fixture
def env(user, make_account, settings, monkeypatch) -> Env:
    return Env(user, make_account, settings, monkeypatch)


@pytest.fixture
def source(request, env):
    """The source adapter named by the test's parametrization (indirect), running."""
    with request.param(env).running() as adapter:
        yield adapter


@pytest.fixture
def destination(request, env):
    with request.param(env).running() as adapter:
        yield adapter

"""Fixtures of the documents tests: `desk` places and confirms orders as the
orders tests do (tests/orders/desk.py), since every document is of an assignment."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession


@pytest.fixture
def desk(session: AsyncSession) -> object:
    """Places orders for providers' units, as casework's OrderPlaced does."""
    from conftest import new_personnummer  # the root conftest, loaded by now

    name = "provider_tests_desk"  # the same module the orders tests load
    if name not in sys.modules:
        path = Path(__file__).parents[1] / "orders" / "desk.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name].Desk(session, new_personnummer)

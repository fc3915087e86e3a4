"""Fixtures of the orders tests: `desk` places orders as casework does (see desk.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy.ext.asyncio import AsyncSession


def load_desk() -> ModuleType:
    """desk.py, once per process, for this folder's and the absences folder's conftest."""
    name = "provider_tests_desk"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("desk.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def desk(session: AsyncSession) -> object:
    """Places orders for providers' units, as casework's OrderPlaced does."""
    from conftest import new_personnummer  # the root conftest, loaded by now

    return load_desk().Desk(session, new_personnummer)

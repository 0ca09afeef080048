"""Shared fixtures: the tiny embedded world (written once per machine into the temp dir, then reused)."""
import pytest


@pytest.fixture(scope='session')
def tiny_data_config():
    "The `data` config section of the cached tiny world with its climatologies."
    from genfocal_nb.data import tiny_world_config
    return tiny_world_config()

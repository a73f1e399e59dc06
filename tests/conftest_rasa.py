"""Session fixture `rasa_url`: a real Rasa NLU server with the current model.

Load with `pytest_plugins = ["tests.conftest_rasa"]`. Trains only when the training data
changed (models are cached by hash), starts one server on a free port for the whole
session and stops it at the end. Set LINLI_TEST_RASA_URL to use an already running server.
Without the Rasa venv the tests that need it are skipped, except under CI, where they fail.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

from nlu import paths
from nlu.rasa_process import RasaServer
from nlu.train import train

logger = logging.getLogger(__name__)


@pytest.fixture(scope="session")
def rasa_url() -> Iterator[str]:
    """Yield the URL of a ready Rasa server serving the model of the current data."""
    override = os.environ.get("LINLI_TEST_RASA_URL")
    if override:
        yield override.rstrip("/")
        return
    if not paths.rasa_executable().exists():
        message = f"{paths.rasa_executable()} missing: run scripts/setup-rasa.sh"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    model = train()
    server = RasaServer(model)
    server.start()
    try:
        waited = server.wait_ready(timeout=300)
        logger.info("Rasa test server %s ready after %.0f s", server.url, waited)
        yield server.url
    finally:
        server.stop()

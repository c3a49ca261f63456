import pytest

from tests.assist.stub import StubProvider


@pytest.fixture
def stub_provider(settings):
    with StubProvider() as stub:
        settings.ACOLHE_ASSIST_URL = stub.url
        settings.ACOLHE_ASSIST_MODEL = "stub-model"
        settings.ACOLHE_ASSIST_KEY = "stub-key"
        settings.ACOLHE_ASSIST_TIMEOUT_SECONDS = 1
        yield stub

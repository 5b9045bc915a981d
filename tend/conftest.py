import pytest

from tend.testing import (  # noqa: F401 - fixtures
    login_as,
    member,
    member_client,
    outsider_client,
    owner,
    owner_client,
    viewer,
    viewer_client,
)


@pytest.fixture(autouse=True)
def _english_by_default(settings):  # type: ignore[no-untyped-def]
    settings.LANGUAGE_CODE = "en"

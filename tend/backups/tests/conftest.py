import pytest


@pytest.fixture(autouse=True)
def _own_data_folder(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Each test backs up and restores its own data folder and backup folder (under pytest's
    tmp_path), never the shared test data folder."""
    data = tmp_path / "data"
    data.mkdir()
    settings.DATA_DIR = data
    settings.TEND_BACKUP_DIR = tmp_path / "backups"

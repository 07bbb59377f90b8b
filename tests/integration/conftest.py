"""Fixtures of the integration tests (the host's ``folder_paths`` in process)."""
import os

import pytest


@pytest.fixture
def model_dirs(tmp_path):
    """Empty ``deig``, ``text_encoders`` and ``checkpoints`` model folders under tmp_path, registered
    with folder_paths for this test only (the previous folders come back afterwards)."""
    import folder_paths

    saved = {k: (list(v[0]), set(v[1])) for k, v in folder_paths.folder_names_and_paths.items()}
    for name in ("deig", "text_encoders", "checkpoints"):
        os.makedirs(tmp_path / name)
        folder_paths.folder_names_and_paths[name] = ([str(tmp_path / name)], set())
    folder_paths.filename_list_cache.clear()
    yield tmp_path
    folder_paths.folder_names_and_paths.clear()
    folder_paths.folder_names_and_paths.update(saved)
    folder_paths.filename_list_cache.clear()

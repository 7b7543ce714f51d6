"""Files and folders the toolkit writes are ordinary: mode 0666 / 0777 less the umask, not mkstemp's 0600."""

from __future__ import annotations

import io
import os
import stat
import tarfile

import pytest

from analysis.targets.spec import load_targets, write_targets
from analysis.viz_assets import _unpack
from tests.analysis.test_targets import GOOD, _file


@pytest.fixture(params=[0o022, 0o077])
def umask(request):
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def test_target_files_get_the_umask_mode(tmp_path, umask):
    targets = load_targets(_file(tmp_path, {"a": GOOD}))
    path = write_targets(targets, tmp_path / "copy.toml")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask


def test_unpacked_dashboard_assets_are_an_ordinary_folder(tmp_path, umask):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        content = b"console.log(1)"
        info = tarfile.TarInfo("package/index.js")
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    target = tmp_path / "assets" / "pkg"
    _unpack(buffer.getvalue(), target)
    assert (target / "index.js").read_bytes() == b"console.log(1)"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o777 & ~umask

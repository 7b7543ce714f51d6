"""Solara's front-end files for offline use: the dashboard page loads them from a CDN, and
offline it stays blank unless local copies sit where Solara looks first,
`<sys.prefix>/share/solara/cdn/<package>@<version>/`.

`required_assets()` reads the package versions the installed Solara asks for (its page template
and widget files); `install_assets()` fetches each from the npm registry (`npm pack`, or the
registry's tarball over HTTPS when npm is missing) and unpacks it there.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

from survey.io.files import ordinary_dir_mode

# the packages the dashboard's page needs (Vuetify app, require.js, icons, the grid layout,
# and vega for Altair charts); the versions come from the installed Solara
NEEDED = ("@widgetti/solara-vuetify-app", "requirejs", "font-awesome", "@widgetti/vue-grid-layout",
          "vega", "vega-lite", "vega-embed")
_SPEC = re.compile(r"(?:\{\{\s*cdn\s*\}\}|getCdn\(\)\})/((?:@[\w.-]+/)?[\w.-]+)@([\w.-]+)/")
REGISTRY = os.environ.get("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org/")


class AssetError(RuntimeError):
    """The assets could not be installed (the message says why and what to try)."""


def cache_dir() -> Path:
    """Where Solara looks for local copies of CDN files."""
    import solara.server.settings as settings

    return Path(settings.assets.proxy_cache_dir)


def required_assets() -> list[tuple[str, str]]:
    """(package, version) pairs the installed Solara loads from its CDN for the dashboard."""
    import solara
    import solara.server.settings as settings

    root = Path(solara.__file__).parent
    found: dict[str, str] = {}
    sources = [root / "server" / "templates" / "solara.html.j2", *sorted((root / "widgets" / "vue").glob("*.vue")),
               *sorted((root / "components").glob("*.vue")), *sorted((root / "components").glob("*.py"))]
    for source in sources:
        for name, version in _SPEC.findall(source.read_text(encoding="utf-8", errors="replace")):
            if name in NEEDED and "$" not in version:
                found.setdefault(name, version)
    match = re.match(r"/?([\w.-]+)@([\w.-]+)/", settings.assets.fontawesome_path)
    if match:
        found.setdefault(match.group(1), match.group(2))
    missing = [n for n in NEEDED if n not in found]
    if missing:
        raise AssetError(f"cannot tell which versions of {missing} Solara {solara.__version__} needs")
    return [(name, found[name]) for name in NEEDED]


def missing_assets() -> list[str]:
    """The required packages with no local copy (empty when the page works offline)."""
    folder = cache_dir()
    return [f"{name}@{version}" for name, version in required_assets()
            if not (folder / f"{name}@{version}").is_dir() or not any((folder / f"{name}@{version}").iterdir())]


def _tarball_npm(spec: str, scratch: Path) -> bytes:
    done = subprocess.run(["npm", "pack", spec, "--json", "--pack-destination", str(scratch)],
                          capture_output=True, text=True, cwd=scratch, timeout=300)
    if done.returncode != 0:
        raise AssetError(f"npm pack {spec} failed: {done.stderr.strip().splitlines()[-1:]}")
    path = scratch / json.loads(done.stdout)[0]["filename"]
    data = path.read_bytes()
    path.unlink()
    return data


def _tarball_http(name: str, version: str) -> bytes:
    url = f"{REGISTRY.rstrip('/')}/{name.replace('/', '%2F')}/{version}"
    with urllib.request.urlopen(url, timeout=60) as response:
        meta = json.load(response)
    with urllib.request.urlopen(meta["dist"]["tarball"], timeout=300) as response:
        return response.read()


def _unpack(data: bytes, target: Path) -> None:
    """Unpack an npm tarball (files under package/) into `target`, replacing it atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".onenet-", dir=target.parent))
    os.chmod(staging, ordinary_dir_mode())  # it becomes `target`, an ordinary folder
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            members = []
            for member in archive.getmembers():
                parts = Path(member.name).parts
                if len(parts) < 2 or not (member.isfile() or member.isdir()):
                    continue
                member.name = str(Path(*parts[1:]))  # drop the leading package/ folder
                members.append(member)
            archive.extractall(staging, members=members, filter="data")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def install_assets(*, log=print) -> list[Path]:
    """Fetch every required package from the npm registry into Solara's local CDN folder."""
    folder = cache_dir()
    installed = []
    with tempfile.TemporaryDirectory(prefix="onenet-npm-") as scratch:
        for name, version in required_assets():
            spec = f"{name}@{version}"
            target = folder / spec
            if target.is_dir() and any(target.iterdir()):
                log(f"have {spec}")
                installed.append(target)
                continue
            try:
                if shutil.which("npm"):
                    data = _tarball_npm(spec, Path(scratch))
                else:
                    data = _tarball_http(name, version)
            except (OSError, ValueError, KeyError, subprocess.SubprocessError) as error:
                raise AssetError(f"could not fetch {spec} from the npm registry ({error}); "
                                 "check the network or NPM_CONFIG_REGISTRY") from None
            try:
                _unpack(data, target)
            except PermissionError:
                raise AssetError(f"cannot write {target}; run with permission to write to "
                                 f"{sys.prefix}") from None
            log(f"installed {spec} -> {target}")
            installed.append(target)
    return installed


__all__ = ["AssetError", "cache_dir", "install_assets", "missing_assets", "required_assets"]

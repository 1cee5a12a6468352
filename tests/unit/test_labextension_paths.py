"""headlab names its prebuilt JupyterLab extension the way Jupyter's tools look for it.

``_jupyter_labextension_paths()`` is what ``jupyter labextension develop`` and the packaging
tools call on a package; it must point at the folder the wheel ships as
``share/jupyter/labextensions/headlab`` (pyproject.toml) and scripts/setup.sh links there.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

import headlab

PKG = Path(headlab.__file__).resolve().parent
REPO = PKG.parent


def test_paths_name_the_built_extension_folder_and_its_package_name():
    paths = headlab._jupyter_labextension_paths()
    assert paths == [{"src": "labextension", "dest": "headlab"}]
    (entry,) = paths
    src = PKG / entry["src"]
    assert src == REPO / "headlab" / "labextension"
    if not (src / "package.json").is_file():
        pytest.fail("headlab/labextension is not built: run scripts/setup.sh (or `npm run build:lab`)")
    assert json.loads((src / "package.json").read_text(encoding="utf-8"))["name"] == entry["dest"]


def test_paths_agree_with_the_wheel_and_the_setup_script():
    (entry,) = headlab._jupyter_labextension_paths()
    wheel = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert wheel["shared-data"] == {f"headlab/{entry['src']}": f"share/jupyter/labextensions/{entry['dest']}"}
    setup = (REPO / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert f"share/jupyter/labextensions/{entry['dest']}" in setup and f'"$PWD/headlab/{entry["src"]}"' in setup


def test_jupyter_develop_links_the_extension(tmp_path, monkeypatch):
    """What `jupyter labextension develop .` does, into a scratch labextensions folder."""
    fed = pytest.importorskip("jupyter_builder.federated_extensions")
    if not (PKG / "labextension" / "package.json").is_file():
        pytest.fail("headlab/labextension is not built: run scripts/setup.sh (or `npm run build:lab`)")
    monkeypatch.chdir(REPO)                                    # the tool resolves the module as a path too
    module, paths = fed._get_labextension_metadata("headlab")
    assert module is headlab and paths == headlab._jupyter_labextension_paths()
    (dest,) = fed.develop_labextension_py("headlab", labextensions_dir=str(tmp_path), symlink=True)
    link = tmp_path / "headlab"
    assert Path(dest) == link and link.is_symlink() and link.resolve() == PKG / "labextension"


def test_the_hook_stays_out_of_the_public_namespace():
    assert "_jupyter_labextension_paths" not in headlab.__all__
    assert "_jupyter_labextension_paths" not in dir(headlab)

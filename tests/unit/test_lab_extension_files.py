"""The JupyterLab extension's packaging: sources, build output, wheel mapping and shipped data.

The build (js/lab/build.mjs, run by scripts/setup.sh) must have run; the browser tier checks
that JupyterLab loads the result (tests/browser/test_lab_extension.py).
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "js" / "lab"
BUILT = REPO / "headlab" / "labextension"


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def built() -> dict:
    if not (BUILT / "package.json").is_file():
        pytest.fail("headlab/labextension is not built: run scripts/setup.sh (or `npm run build:lab`)")
    return json.loads((BUILT / "package.json").read_text(encoding="utf-8"))


def test_source_package_is_the_headlab_extension(pyproject):
    pkg = json.loads((LAB / "package.json").read_text(encoding="utf-8"))
    assert pkg["name"] == "headlab"
    assert pkg["version"] == pyproject["project"]["version"]
    lab = pkg["jupyterlab"]
    assert (LAB / lab["outputDir"]).resolve() == BUILT
    assert lab["extension"].startswith("lib/") and lab["mimeExtension"].startswith("lib/")
    # the extension is built from the views' sources, not a copy of them
    sources = {p.name for p in (LAB / "src").glob("*.ts")}
    assert not sources & {p.name for p in (REPO / "js" / "src").glob("*.ts")}
    assert 'from "../../src/index"' in (LAB / "src" / "static-output.ts").read_text(encoding="utf-8")


def test_build_output_is_a_loadable_prebuilt_extension(built):
    b = built["jupyterlab"]["_build"]
    assert (BUILT / b["load"]).is_file() and re.fullmatch(r"static/remoteEntry\.[0-9a-f]+\.js", b["load"])
    assert (b["extension"], b["mimeExtension"], b["style"]) == ("./extension", "./mimeExtension", "./style")
    install = json.loads((BUILT / "install.json").read_text(encoding="utf-8"))
    assert install == {**install, "packageManager": "python", "packageName": "headlab"}
    chunks = "".join(p.read_text(encoding="utf-8") for p in (BUILT / "static").glob("*.js"))
    for text in ("application/vnd.headlab.v1+json", "application/vnd.headlab.report+json", "headlab:open-catalogue"):
        assert text in chunks, text


def test_wheel_ships_the_extension_under_share(pyproject):
    wheel = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert wheel["shared-data"] == {"headlab/labextension": "share/jupyter/labextensions/headlab"}
    assert "headlab/labextension" in wheel["exclude"]          # not a second copy inside the package
    hook = pyproject["tool"]["hatch"]["build"]["hooks"]["jupyter-builder"]
    assert "headlab/labextension/package.json" in hook["ensured-targets"]
    assert hook["build-kwargs"]["build_cmd"] == "build:all"
    scripts = json.loads((REPO / "package.json").read_text(encoding="utf-8"))["scripts"]
    assert "js/lab/build.mjs" in scripts["build:all"] and "js/build.mjs" in scripts["build:all"]


def test_mime_type_matches_the_python_contract():
    from headlab.views.protocol import MIME_TYPE

    ts = (LAB / "src" / "constants.ts").read_text(encoding="utf-8")
    assert re.search(r'export const HEADLAB_MIME = "([^"]+)"', ts).group(1) == MIME_TYPE


def test_shipped_catalogue_is_the_current_catalogue():
    from headlab import catalog

    shipped = json.loads((LAB / "data" / "catalog.json").read_text(encoding="utf-8"))
    assert shipped == json.loads(json.dumps(catalog.export_json())), (
        "js/lab/data/catalog.json is stale: rebuild with `npm run build:lab` (scripts/setup.sh does)")
    induction = next(t for t in shipped["types"] if t["id"] == "induction_head")
    assert "感应头" in induction["zh"] and all(p.get("bibtex") for p in induction["papers"])

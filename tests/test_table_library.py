"""The site's shared table library (helpers/assets/datatables.js and .css) is committed, built by
helpers/table-library/ (`make table-library`) from exact versions: the files say the versions
the recipe pins, the same DataTables major version as itables' bundle that a notebook run by hand uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

from topic_report.site import TABLE_ASSETS

RECIPE = TABLE_ASSETS.parent / "table-library"


def pinned() -> dict[str, str]:
    """The versions package-lock.json installs, by package."""
    lock = json.loads((RECIPE / "package-lock.json").read_text(encoding="utf-8"))
    return {name.removeprefix("node_modules/"): entry["version"] for name, entry in lock["packages"].items() if name}


def test_the_recipe_pins_exact_versions_and_the_lock_installs_them():
    wanted = json.loads((RECIPE / "package.json").read_text(encoding="utf-8"))
    versions = pinned()
    for name, version in {**wanted["dependencies"], **wanted["devDependencies"]}.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}: {version} is not one exact version"
        assert versions[name] == version


def test_the_committed_library_is_built_from_the_pinned_versions():
    versions = pinned()
    script = (TABLE_ASSETS / "datatables.js").read_text(encoding="utf-8")
    assert f"DataTables {versions['datatables.net']}\n" in script
    assert f"jQuery JavaScript Library v{versions['jquery']}\n" in script
    licences = (TABLE_ASSETS / "datatables.LICENSE.txt").read_text(encoding="utf-8")
    for name in ("datatables.net", "datatables.net-dt", "jquery"):
        assert f"{name} {versions[name]}\n" in licences


def test_the_library_keeps_the_datatables_major_version_of_itables_bundle():
    from itables.options import dt_bundle

    bundled = re.search(r"DataTables (\d+)\.\d+\.\d+\n", Path(dt_bundle).read_text(encoding="utf-8"))[1]
    assert pinned()["datatables.net"].split(".")[0] == bundled


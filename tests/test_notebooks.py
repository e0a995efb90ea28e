"""The tracked notebooks stay templates: no outputs in git; Jupyter saves them without what a run
added; and outputs written into them by anything else never reach a diff or a commit (the git
filter `make` sets up)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest

from topic_report import templates

from conftest import ROOT

GIT = shutil.which("git")


def tracked_notebooks() -> dict[str, str]:
    """Each tracked notebook's path and the text git holds for it (the files, outside a checkout)."""
    if GIT and (ROOT / ".git").exists():
        listed = subprocess.run([GIT, "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.split()
        return {path: subprocess.run([GIT, "show", f":{path}"], cwd=ROOT, capture_output=True, text=True,
                                     check=True).stdout for path in listed}
    return {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8")
            for path in ROOT.glob("notebooks/*.ipynb")}


def test_tracked_notebooks_have_no_outputs_and_no_execution_counts():
    notebooks = tracked_notebooks()
    assert {"notebooks/topic.ipynb", "notebooks/explore.ipynb"} <= set(notebooks)
    for path, text in notebooks.items():
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, (path, cell.id)


def git(repo: Path, *args: str) -> str:
    return subprocess.run([GIT, "-c", "user.name=test", "-c", "user.email=test@example.org", *args], cwd=repo,
                          capture_output=True, text=True, check=True).stdout


def run(notebook: dict) -> dict:
    """The notebook as a JupyterLab run leaves it: outputs, counts, the kernel's language details."""
    ran = json.loads(json.dumps(notebook))
    code = next(cell for cell in ran["cells"] if cell["cell_type"] == "code")
    code["execution_count"] = 7
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["a saved output\n"]}]
    ran["metadata"]["language_info"] = {
        "codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py", "mimetype": "text/x-python",
        "name": "python", "nbconvert_exporter": "python", "pygments_lexer": "ipython3", "version": "3.11.2"}
    return ran


def template() -> dict:
    return json.loads((ROOT / "notebooks" / "explore.ipynb").read_text(encoding="utf-8"))


def test_jupyter_saves_a_template_without_what_the_run_added_and_a_copy_elsewhere_with_it(tmp_path, monkeypatch):
    from jupyter_server.services.contents.filemanager import FileContentsManager

    monkeypatch.setattr(templates, "TEMPLATES", tmp_path / "notebooks")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "mine").mkdir()
    manager = FileContentsManager(root_dir=str(tmp_path), pre_save_hook="topic_report.templates.strip_templates")
    for path in ("notebooks/explore.ipynb", "mine/explore.ipynb"):
        manager.save({"type": "notebook", "format": "json", "content": run(template())}, path)
    assert json.loads((tmp_path / "notebooks" / "explore.ipynb").read_text(encoding="utf-8")) == template()
    assert "a saved output" in (tmp_path / "mine" / "explore.ipynb").read_text(encoding="utf-8")


@pytest.mark.skipif(not GIT or not shutil.which("make"), reason="needs git and make")
def test_outputs_written_into_a_tracked_notebook_reach_no_diff_and_no_commit(tmp_path):
    """What `make` sets up in a checkout: git reads notebooks without outputs."""
    repo = tmp_path / "clone"
    (repo / "notebooks").mkdir(parents=True)
    for name in ("Makefile", ".gitattributes", ".gitignore", "notebooks/explore.ipynb"):
        shutil.copyfile(ROOT / name, repo / name)
    python = repo / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    git(repo, "init", "-q")
    subprocess.run(["make", "--no-print-directory", "notebook-templates"], cwd=repo, check=True)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "templates")

    path = repo / "notebooks" / "explore.ipynb"
    path.write_text(json.dumps(run(template()), indent=1), encoding="utf-8")
    (repo / "notebooks" / ".ipynb_checkpoints").mkdir()
    shutil.copyfile(path, repo / "notebooks" / ".ipynb_checkpoints" / "explore-checkpoint.ipynb")

    assert git(repo, "diff") == ""
    git(repo, "add", "-A")
    assert git(repo, "diff", "--cached", "--stat") == ""
    assert git(repo, "status", "--porcelain") == ""
    assert "a saved output" in path.read_text(encoding="utf-8")  # the file itself is left as written


# --- runs by hand: titled, styled, and one line when a parameter is wrong ---------------------

def test_a_papermill_run_is_titled_with_its_topic_and_window_and_carries_the_styles(env, cli):
    assert cli("fetch", "--topic", "3D Reconstruction", "--since", "2026-02-01", "--until", "2026-02-11")[0] == 0
    notebook = papermill.execute_notebook(str(ROOT / "notebooks" / "topic.ipynb"), str(env / "run.ipynb"),
                                          parameters={"topic": "3d-reconstruction", "since": "2026-02-03",
                                                      "db_path": str(env / "papers.sqlite")},
                                          kernel_name="python3", progress_bar=False)
    first = next(output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs)
    html = first["data"]["text/html"]
    assert html.startswith("<style>") and ".headline" in html and ".report-title" in html
    assert '<p class="report-topic">3D Reconstruction</p>' in html
    assert '<p class="report-window">Papers submitted since 2026-02-03</p>' in html


def test_a_wrong_parameter_is_one_line_in_papermills_output_and_in_the_notebook(tmp_path):
    papermill_command = Path(sys.executable).parent / "papermill"
    run = subprocess.run([str(papermill_command), "notebooks/topic.ipynb", str(tmp_path / "run.ipynb"),
                          "-p", "topic", "nope", "--no-progress-bar"],
                         cwd=ROOT, capture_output=True, text=True, env={**os.environ, "TOPIC_REPORT_DB": str(tmp_path / "p.sqlite")})
    assert run.returncode == 1
    expected = "TopicReportError: unknown topic 'nope'; known topics: "
    assert "Traceback" not in run.stderr + run.stdout
    (line,) = [line for line in run.stderr.splitlines() if "nope" in line]
    assert line.startswith(expected)
    failed = nbformat.read(tmp_path / "run.ipynb", as_version=4)
    (error,) = [output for cell in failed.cells if cell.cell_type == "code" for output in cell.outputs
                if output.output_type == "error"]
    assert len(error.traceback) == 1 and error.traceback[0].startswith(expected)

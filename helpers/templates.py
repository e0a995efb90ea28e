"""The tracked notebooks (notebooks/*.ipynb) are templates: they carry no outputs, so running them
must not change them. Two guards, both set up by `make`, strip what a run adds (outputs, execution
counts, the kernel's language details, nbstripout's list of editor state) with nbstripout:

- Jupyter's pre-save hook `strip_templates`: JupyterLab (or Notebook) from the project's .venv
  saves a notebook of notebooks/ without what the run added; a copy saved elsewhere keeps it.
- git's clean filter `python -m topic_report.templates` (.gitattributes): whatever else writes into a
  notebook (another editor, papermill in place), git reads it stripped, so diffs and commits
  never carry outputs.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import nbformat
from nbstripout import strip_output

from topic_report import RESOURCES

TEMPLATES = RESOURCES / "notebooks"
# nbstripout's own defaults (its command line adds them; its function does not), and the details
# a kernel fills into language_info (the templates keep only its name).
RUN_KEYS = [
    "metadata.signature", "metadata.widgets", "cell.metadata.collapsed", "cell.metadata.ExecuteTime",
    "cell.metadata.execution", "cell.metadata.heading_collapsed", "cell.metadata.hidden",
    "cell.metadata.scrolled", "metadata.language_info.codemirror_mode",
    "metadata.language_info.file_extension", "metadata.language_info.mimetype",
    "metadata.language_info.nbconvert_exporter", "metadata.language_info.pygments_lexer",
    "metadata.language_info.version",
]


def strip(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook as a template: no outputs, no execution counts, cell ids kept."""
    return strip_output(notebook, keep_output=False, keep_count=False, keep_id=True, extra_keys=RUN_KEYS)


def strip_templates(model: dict, path: str, contents_manager, **_) -> None:
    """Jupyter's pre_save_hook: a notebook saved into notebooks/ is saved as a template."""
    if model.get("type") != "notebook" or not model.get("content"):
        return
    target = Path(getattr(contents_manager, "root_dir", "."), path).resolve()
    if target.parent == TEMPLATES.resolve():
        model["content"] = strip(nbformat.from_dict(model["content"]))


def main() -> None:
    """git's clean filter: a notebook on stdin, its template on stdout."""
    notebook = nbformat.read(io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8"), as_version=nbformat.NO_CONVERT)
    output = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n")
    nbformat.write(strip(notebook), output)
    output.flush()


if __name__ == "__main__":
    main()

"""Rebuild data/taxonomy/arxiv-categories.json from arXiv's own taxonomy (run once; kept for provenance).

The source is `arxiv/taxonomy/definitions.py` of arXiv's `arxiv-base` package (MIT, Cornell
University), as published on PyPI:

    pip download --no-deps arxiv-base==0.17.8 -d /tmp/arxiv-base
    python data/taxonomy/make_taxonomy.py /tmp/arxiv-base/arxiv_base-0.17.8-py3-none-any.whl

The file only needs `datetime`, so it is executed on its own, without installing the package and
its dependencies (Flask, boto3, uwsgi …).
"""

import json
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFINITIONS = "arxiv/taxonomy/definitions.py"


def main() -> None:
    wheel = Path(sys.argv[1])
    with zipfile.ZipFile(wheel) as archive:
        source = archive.read(DEFINITIONS).decode("utf-8")
    definitions: dict = {}
    exec(compile(source, DEFINITIONS, "exec"), definitions)
    categories = {code: {"name": entry["name"], "active": bool(entry.get("is_active", True))}
                  for code, entry in sorted(definitions["CATEGORIES"].items())}
    document = {
        "source": f"{wheel.name}: {DEFINITIONS} (arXiv's arxiv-base package, MIT licence)",
        "categories": categories,
        # Old codes arXiv still lists papers under, mapped to the code that replaced them (cs.NA → math.NA).
        "aliases": dict(sorted(definitions["CATEGORY_ALIASES"].items())),
    }
    target = HERE / "arxiv-categories.json"
    target.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {target.name}: {len(categories)} categories, {len(document['aliases'])} aliases")


if __name__ == "__main__":
    main()

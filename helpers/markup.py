"""The page's HTML pieces, made from the Jinja templates in helpers/page/ with autoescaping on: every
value a template interpolates is escaped unless it is already markup (Markup) we built safely."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from topic_report.digest import close_bidi


@cache
def _environment() -> Environment:
    environment = Environment(loader=PackageLoader("topic_report", "page"), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    # Untrusted text's bidi overrides closed, so a title cannot reverse the text after it.
    environment.filters["bidi"] = close_bidi
    return environment


def render(template: str, **context) -> Markup:
    """The template `helpers/page/<template>` filled with `context`, as markup."""
    return Markup(_environment().get_template(template).render(**context).strip())

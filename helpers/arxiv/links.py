"""Links to a paper on arXiv, its abstract page and its PDF: the one rule for the pages, the
table, the digest, the exports and the frame. An id with a version (`2602.09934v2`) links to
that version, one without it to the newest."""

ARXIV_SITE = "https://arxiv.org"


def abs_url(paper_id: str) -> str:
    return f"{ARXIV_SITE}/abs/{paper_id}"


def pdf_url(paper_id: str) -> str:
    return f"{ARXIV_SITE}/pdf/{paper_id}"

"""The arXiv layer: a topic becomes an API query, the query travels over HTTP, the answer is read
as an Atom feed, and pages are asked for until the topic's papers are all in.

- `query`: the search query text of a topic (and the checker of a topic's own query), the date
  window, the request URL;
- `transport`: one HTTP exchange with the API, bounded in time and size, kept apart from the
  previous one, redirects only on arXiv's host, counted;
- `feed`: one answer read, once, into a page of papers (or the reason it cannot be used);
- `paging`: the pages of a query, retries, the checks that no paper is dropped silently, and the
  API's 30,000-results cap.

The submodules are imported by name (`topic_report.arxiv.paging`): this file imports none of
them, so that `topics` can use `query` without loading the network layer.
"""

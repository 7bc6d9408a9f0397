"""The report package: the only part of rehab that turns tables and result objects into pages.

- :mod:`rehab.report.render` renders the monthly pages in batches and caches them;
- :mod:`rehab.report.kernels` runs a papermill template on a kept Jupyter kernel;
- :mod:`rehab.report.monthly` holds the monthly report's sections (what its template displays);
- :mod:`rehab.report.comparison` the protocol-comparison page;
- :mod:`rehab.report.course` the whole-course page of one person (in Python, no kernel);
- :mod:`rehab.report.index` the caseload index;
- :mod:`rehab.report.charts` the charts only these pages draw;
- :mod:`rehab.report.pdf` the PDF copies (chromium over the DevTools protocol);
- :mod:`rehab.report.page` the style sheet, HTML helpers, the notebook-to-page export and the
  offline check; :mod:`rehab.report.files` where pages and their cache records live.

Nothing is imported here: a report kernel imports only what its template needs.
"""


class ReportError(ValueError):
    """A report cannot be made: unknown participant, month without data, bad parameters, or a
    failing template cell."""

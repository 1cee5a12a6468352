"""``hl.Report`` and ``hl.compare``: tested head-role scores, their files and their HTML page.

============  ================================================================
module        job
============  ================================================================
report        the ``Report`` class: build from per-sample scores, read, re-test
table         the table's columns and dtypes; JSON-safe values
summaries     co-location of roles, counts per layer, layer tests
io            save / load (``.json`` + ``.npz``, atomic, no pickle, validated)
compare       ``compare``: paired comparison of two reports on the same samples
html          the self-contained HTML page of ``headlab scan`` (html_* modules: its parts)
============  ================================================================
"""

from headlab.report.compare import compare
from headlab.report.report import Report
from headlab.report.table import FORMAT, FORMAT_VERSION

__all__ = ["Report", "compare", "FORMAT", "FORMAT_VERSION"]

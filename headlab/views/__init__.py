"""Interactive notebook views (anywidget) and their kernel-free forms.

============  ================================================================
module        job
============  ================================================================
widgets       HeadGrid, AttentionView, Explorer, CatalogBrowser (anywidget)
payload       what they show, computed from reports, scores and attention
codec         numpy arrays <-> binary buffers (float32, float16, uint8)
protocol      trait names, messages and head keys shared with js/src/protocol.ts
static_page   ``widget.to_html()``: one self-contained offline page
============  ================================================================
"""

from headlab.views.widgets import AttentionView, CatalogBrowser, Explorer, HeadGrid, browse, explore

__all__ = ["HeadGrid", "AttentionView", "Explorer", "CatalogBrowser", "explore", "browse"]

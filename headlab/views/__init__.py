"""Interactive notebook views (anywidget) and their kernel-free forms.

==============  ==============================================================
module          job
==============  ==============================================================
widgets         HeadGrid, CatalogBrowser; AttentionView and Explorer re-exported
attention_view  AttentionView and the pattern service (sparse rows on request)
explorer        Explorer: grid + attention + catalogue, progressive role scores
base            the shared widget base: notebook output, ``to_html``, grid traits
payload         what they show, computed from reports, scores and attention
scoring         per-text role scores (all roles in one gather) and the score feed
sparse          one head as sparse rows: top keys per query, quantised
codec           numpy arrays <-> binary buffers (float32, float16, uint8)
protocol        trait names, messages, payload format shared with js/src/protocol.ts
mime            the kernel-free mime bundle (payload within a byte budget)
svg             static pictures (``image/svg+xml``) of the views
display         showing a view at once and completing its output later
static_page     ``widget.to_html(path)``: one self-contained offline page
scales          colour scales shared with js/src/scales.ts and the HTML report
thumbnails      every head's pattern pooled to at most 16 x 16 blocks (the grid's patterns mode)
==============  ==============================================================
"""

from headlab.views.mime import report_bundle
from headlab.views.widgets import AttentionView, CatalogBrowser, Explorer, HeadGrid, browse, explore

__all__ = ["HeadGrid", "AttentionView", "Explorer", "CatalogBrowser", "explore", "browse", "report_bundle"]

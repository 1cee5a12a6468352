"""Static export: one self-contained HTML page per widget (no kernel, no network).

The page holds the widget's synced state (binary buffers base64-encoded with their paths),
the front-end bundle and stylesheet, and a small module host (``static/host.js``) that
rebuilds a kernel-free model and renders the view. Views that show attention embed the
per-head sparse patterns they may need (``preload``), so clicks keep working offline.
"""

from __future__ import annotations

import base64
import html
import json
import pathlib

from headlab.views.mime import split_buffers, synced_state

__all__ = ["STATIC", "PAYLOAD_TYPE", "split_buffers", "widget_payload", "render_html"]

#: the front-end bundle built from js/ (shipped in the wheel)
STATIC = pathlib.Path(__file__).parent.parent / "static"
PAYLOAD_TYPE = "application/vnd.headlab.widget+json"


def widget_payload(widget, heads=None) -> dict:
    """The JSON-able payload of one widget: esm, css, state and base64 buffers."""
    state = synced_state(widget)
    extra = getattr(widget, "_export_extra", None)   # views with attention embed their patterns
    if extra is not None:
        state.update(extra(heads))
    state["_static"] = True
    clean, bufs = split_buffers(state)
    return {
        "esm": (STATIC / "index.js").read_text(encoding="utf-8"),
        "css": (STATIC / "styles.css").read_text(encoding="utf-8"),
        "state": clean,
        "buffers": [{"path": p, "data": base64.b64encode(b).decode("ascii")} for p, b in bufs],
    }


def _script_json(obj) -> str:
    """JSON safe inside a <script> element (no '</script', no '<!--')."""
    s = json.dumps(obj, separators=(",", ":"), allow_nan=True)
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' blob:; style-src 'unsafe-inline'; img-src data: blob:; connect-src 'none'">
<meta name="generator" content="headlab">
<title>{title}</title>
<style>
body {{ margin: 16px; background: #fff; color: rgba(0,0,0,0.87); }}
.headlab-page-note {{ font: 12px system-ui, sans-serif; color: #777; margin-top: 12px; }}
{css}
</style>
</head>
<body>
<script type="{ptype}">{payload}</script>
<div class="headlab-page-note">Static headlab view: interactions work offline; nothing here needs a kernel.</div>
<script type="module">{host}</script>
</body>
</html>
"""


def render_html(widget, title: str | None = None, heads=None) -> str:
    """The page's HTML text (``widget.to_html(path)`` writes it)."""
    payload = widget_payload(widget, heads)
    css = payload.pop("css").replace("</", "<\\/")
    host = (STATIC / "host.js").read_text(encoding="utf-8").replace("</script", "<\\/script")
    title = title or getattr(widget, "title", "") or f"headlab {type(widget).__name__}"
    return PAGE.format(title=html.escape(title), css=css, ptype=PAYLOAD_TYPE,
                       payload=_script_json(payload), host=host)

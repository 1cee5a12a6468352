"""Static export: one self-contained HTML page per widget (no kernel, no network).

The page holds the widget's synced state (binary buffers base64-encoded with their paths),
the front-end bundle and stylesheet, and a small module host (``static/host.js``) that
rebuilds a kernel-free model and renders the view. Views that show attention embed the
per-head blocks they may need (``preload``), so clicks keep working offline.
"""

from __future__ import annotations

import base64
import html
import json
import pathlib

#: the front-end bundle built from js/ (shipped in the wheel)
STATIC = pathlib.Path(__file__).parent.parent / "static"
PAYLOAD_TYPE = "application/vnd.headlab.widget+json"
_DROP = {"_esm", "_css", "_anywidget_id", "layout", "_dom_classes", "tabbable", "tooltip", "comm"}


def split_buffers(value, path=()):
    """Replace every bytes-like leaf by None; return (clean value, [(path, bytes)])."""
    found = []

    def walk(v, p):
        if isinstance(v, (bytes, bytearray, memoryview)):
            found.append((list(p), bytes(v)))
            return None
        if isinstance(v, dict):
            return {k: walk(x, p + (k,)) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [walk(x, p + (i,)) for i, x in enumerate(v)]
        return v

    return walk(value, tuple(path)), found


def widget_payload(widget, heads=None) -> dict:
    """The JSON-able payload of one widget: esm, css, state and base64 buffers."""
    state = {k: v for k, v in widget.get_state().items()
             if k not in _DROP and not k.startswith("_model_") and not k.startswith("_view_") or k == "_view"}
    extra = getattr(widget, "_export_extra", None)   # views with attention embed blocks
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
    payload = widget_payload(widget, heads)
    css = payload.pop("css").replace("</", "<\\/")
    host = (STATIC / "host.js").read_text(encoding="utf-8").replace("</script", "<\\/script")
    title = title or getattr(widget, "title", "") or f"headlab {type(widget).__name__}"
    return PAGE.format(title=html.escape(title), css=css, ptype=PAYLOAD_TYPE,
                       payload=_script_json(payload), host=host)


def write_html(widget, path=None, *, title: str | None = None, heads=None) -> str:
    """Render the page; write it to ``path`` when given. Returns the HTML text."""
    text = render_html(widget, title=title, heads=heads)
    if path is not None:
        pathlib.Path(path).write_text(text, encoding="utf-8")
    return text

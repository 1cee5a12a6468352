"""The report's stylesheet, light and dark (``prefers-color-scheme``).

Text colours are chosen for a contrast of at least 4.5:1 (WCAG AA) on every background they
sit on, in both themes; ``tests/browser/test_html_report.py`` measures it from computed styles.
The accent (links, lines of the drawings) is a viridis stop from ``headlab.views.scales``:
``#2a788e`` in the light theme and ``#7ad151`` in the dark one.
"""

from __future__ import annotations

from headlab.views import scales

__all__ = ["CSS"]

_LIGHT_ACCENT = scales.VIRIDIS[4]    # #2a788e: 4.9:1 on white
_DARK_ACCENT = scales.VIRIDIS[8]     # #7ad151: 9:1 on the dark background

CSS = """
:root{--fg:#1d1d1f;--muted:#595e63;--bg:#fff;--line:#d9dce0;--alt:#f3f4f6;--accent:%(light)s;--na:%(na)s;--shade:42,120,142;--note:#eef5f7}
@media (prefers-color-scheme:dark){:root{--fg:#e6e6e6;--muted:#a9adb3;--bg:#16181c;--line:#3a3f46;--alt:#1f2227;--accent:%(dark)s;--shade:122,209,81;--note:#1c2a22}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1180px;padding:16px 24px 48px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:22px;margin:8px 0 2px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}
a{color:var(--accent)}nav a{margin-right:12px}a.th{color:inherit;text-decoration:underline dotted}
.sub,.hint,.ref{color:var(--muted)}.ref{font-size:12px;white-space:nowrap}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
thead th{background:var(--alt);position:sticky;top:0}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.layers td{min-width:34px;background:rgba(var(--shade),calc(var(--f,0)*0.45))}
table.layers td.z{color:var(--muted)}
table.prov th{width:190px;color:var(--muted);font-weight:500}
.grids{display:flex;flex-wrap:wrap;gap:14px 22px}
figure{margin:0}figcaption{font-size:12.5px;margin-bottom:2px;max-width:210px}
svg text{fill:var(--fg);font:9px system-ui,sans-serif;text-anchor:middle}
svg .ax text.l,svg text.end{text-anchor:end}svg text.st{text-anchor:start}
svg.legend text{font-size:11px}
svg use.tk{fill:var(--fg);font:10px system-ui,sans-serif}
svg.lines path{stroke:var(--accent);stroke-width:1.4px;fill:none;vector-effect:non-scaling-stroke}
g.row a:hover use,g.row a:focus use{stroke:var(--fg);stroke-width:1.5}
use.na{fill:var(--na)}
circle.sig.w{fill:#fff;stroke:#000;stroke-width:.6}
circle.sig.d{fill:#000;stroke:#fff;stroke-width:.6}
.cards{display:flex;flex-wrap:wrap;gap:4px 18px;align-items:flex-start}
.card,.scroll{max-height:360px;overflow:auto}
caption{text-align:left;font-size:12.5px;padding:2px 0}
details{margin:6px 0}summary{cursor:pointer;color:var(--accent)}
.help dl{margin:4px 0 0;display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;font-size:13px}
.help dt{font-weight:600}.help dd{margin:0}
.note{background:var(--note);border-left:3px solid var(--accent);padding:6px 12px;margin:10px 0;font-size:13px}
.note ul{margin:4px 0;padding-left:20px}
.modes>input{margin:4px 4px 10px 0}.modes>label{margin-right:16px;cursor:pointer}
.by-patterns{display:none}
.m-pat:checked~.by-scores{display:none}.m-pat:checked~.by-patterns{display:block}
.thumbs{display:inline-grid;gap:3px;align-items:center;justify-items:center;font-size:11px}
.thumbs img{display:block;image-rendering:pixelated;border:1px solid var(--line)}
.thumbs a:focus img,.thumbs a:hover img{outline:2px solid var(--fg)}
.thumbs .ax{color:var(--muted);padding:0 4px}
section.head{border-top:1px solid var(--line);margin-top:14px;padding-top:2px}
section.head:target{background:var(--alt)}
.hnav{float:right;font-weight:400;font-size:12.5px}.hnav a{margin-left:10px}
.hbody{display:flex;flex-wrap:wrap;gap:8px 28px;align-items:flex-start}
.gist{margin:2px 0 6px}
table.hr{margin-top:0}table.hr td+td{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}table.hr tr.s td{font-weight:600}table.hr tr.s td:first-child::after{content:" ●"}
ul.pub{margin:2px 0;padding-left:20px;max-width:560px}
footer{margin-top:36px;color:var(--muted);font-size:12px}
""" % {"light": _LIGHT_ACCENT, "dark": _DARK_ACCENT, "na": scales.NAN_COLOUR}

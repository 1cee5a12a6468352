// Arcs (tokens in reading order, an arc from each query to its keys) and bipartite lines
// (queries left, keys right) for a window of units [lo, hi). Edges to keys outside the window
// end in a dashed stub at the window's border, so a long input never becomes a 21,000 px strip.

import { clear, html, svg } from "./dom";
import { arcHeight, arcPath, edgeStyle, unitPositions } from "./layout";
import { headKey, type Head } from "./protocol";
import { fmt, headColor } from "./scales";
import type { SparseEdge } from "./sparse";

export interface EdgeView {
  body: HTMLElement;
  info: HTMLElement;
  signal: AbortSignal;
  labels: string[];
  special: Set<number>;
  heads: Head[];
  /** called when a token is clicked (unit index) */
  onPick: (i: number) => void;
  /** the SVG the export buttons save */
  setExport: (s: SVGSVGElement | null) => void;
  /** text shown when no token is hovered */
  idle: () => string;
  /** the pinned token (its edges stay shown), or null; kept by the view across redraws */
  pinned: () => number | null;
  /** pin a token (Enter, click) or unpin (null: Escape) */
  onPin: (i: number | null) => void;
  /** give the pinned token the keyboard focus once drawn (the user was using the keyboard) */
  refocus: boolean;
}

const STUB = 26;
let arcIds = 0;

/** What the arcs mean, under every drawing of them (the static SVG picture says the same). */
export const ARC_LEGEND = "arc: from a query token to the key it attends to (arrowhead at the key); above the tokens: " +
  "earlier keys, below: later keys; width and opacity: weight";
export const LINES_LEGEND = "line: from a query token (left) to the key it attends to (right, arrowhead); width and opacity: weight";
export const KEYS_HELP = "Keyboard: Tab to the tokens, ←/→ move, Enter pins a token (its edges stay shown), Esc unpins.";

/** The next token for a key press, or null when the key does not move: arcs move along the text;
 * lines move within a side (↑/↓) or across (←/→). `side` is "query", "key" or null (arcs). */
export function tokenMove(i: number, side: string | null, key: string, lo: number, hi: number): [number, string | null] | null {
  const clamp = (j: number) => Math.max(lo, Math.min(hi - 1, j));
  if (side === null) {
    if (key === "ArrowLeft" || key === "ArrowUp") return [clamp(i - 1), null];
    if (key === "ArrowRight" || key === "ArrowDown") return [clamp(i + 1), null];
  } else {
    if (key === "ArrowUp") return [clamp(i - 1), side];
    if (key === "ArrowDown") return [clamp(i + 1), side];
    if (key === "ArrowLeft") return [i, "query"];
    if (key === "ArrowRight") return [i, "key"];
  }
  if (key === "Home") return [lo, side];
  if (key === "End") return [hi - 1, side];
  return null;
}

/** Stroke-width bucket of an edge's arrowhead (a thick arc needs a larger head to show past its stroke). */
export const arrowBucket = (w: number): number => Math.max(1, Math.min(5, Math.round(edgeStyle(w).width)));

/**
 * Arrowhead markers, one per head colour and width bucket (a marker does not take its path's
 * stroke colour, and a fixed-size head disappears under a thick stroke).
 */
function markers(edges: SparseEdge[]): { defs: SVGDefsElement; id: (head: number, w: number) => string } {
  const uid = `headlab-arrow${++arcIds}`;
  const defs = svg("defs");
  const made = new Set<string>();
  for (const e of edges) {
    const key = `${e.head}-${arrowBucket(e.w)}`;
    if (made.has(key)) continue;
    made.add(key);
    const size = 6 + 2.2 * arrowBucket(e.w);
    const m = svg("marker", { id: `${uid}-${key}`, viewBox: "0 0 8 8", refX: 7.5, refY: 4, markerWidth: size, markerHeight: size,
      markerUnits: "userSpaceOnUse", orient: "auto", class: "headlab-arrowhead" });
    m.appendChild(svg("path", { d: "M0,0.5 L8,4 L0,7.5 z", fill: headColor(e.head) }));
    defs.appendChild(m);
  }
  return { defs, id: (head, w) => `url(#${uid}-${head}-${arrowBucket(w)})` };
}

export function drawArcs(v: EdgeView, edges: SparseEdge[], lo: number, hi: number): SVGSVGElement {
  const labels = v.labels.slice(lo, hi);
  const pos = unitPositions(labels);
  const left = lo > 0 ? STUB + 12 : 12, right = hi < v.labels.length ? STUB + 12 : 12, maxH = 150;
  const xOf = (i: number) => (i < lo ? left - STUB : i >= hi ? left + pos.total + STUB : left + pos.x[i - lo]);
  let up = 10, down = 10;
  for (const e of edges) {
    const hgt = arcHeight(xOf(e.q), xOf(e.k), maxH);
    if (e.k < e.q) up = Math.max(up, hgt); else if (e.k > e.q) down = Math.max(down, hgt);
  }
  const y = 12 + up + 12;
  const W = left + pos.total + right, H = y + down + 24;
  const s = svg("svg", { class: "headlab-arcs", width: W, height: H, viewBox: `0 0 ${W} ${H}`, "data-lo": lo, "data-hi": hi,
    role: "group", "aria-label": `attention arcs, tokens ${lo}–${hi - 1}` });
  const mk = markers(edges);
  const g = svg("g", { class: "headlab-arc-layer" });
  for (const e of edges) {
    const st = edgeStyle(e.w);
    const col = headColor(e.head);
    let el: SVGElement;
    if (e.q === e.k) el = svg("circle", { cx: xOf(e.q), cy: y - 16, r: 1.5 + 3 * e.w, fill: col, "fill-opacity": st.opacity });
    else {
      const side = e.k < e.q ? -1 : 1;
      el = svg("path", { d: arcPath(xOf(e.q), xOf(e.k), y + side * 9, side, maxH), stroke: col, "stroke-width": st.width,
        "stroke-opacity": st.opacity, fill: "none", "marker-end": mk.id(e.head, e.w) });
      if (e.k < lo || e.k >= hi) { el.setAttribute("stroke-dasharray", "3 2"); el.classList.add("is-out"); }
    }
    el.classList.add("headlab-arc");
    el.setAttribute("data-q", String(e.q)); el.setAttribute("data-k", String(e.k));
    el.setAttribute("data-head", headKey(...v.heads[e.head])); el.setAttribute("data-w", e.w.toFixed(4));
    g.appendChild(el);
  }
  const gTok = svg("g", { class: "headlab-tokens" });
  labels.forEach((lab, j) => {
    const i = lo + j;
    const t = svg("text", { class: "headlab-token" + (v.special.has(i) ? " is-special" : ""), x: left + pos.x[j], y: y + 4, "text-anchor": "middle", "data-i": i });
    t.textContent = lab;          // tokens are text nodes, never markup
    gTok.appendChild(t);
    gTok.appendChild(svg("rect", { class: "headlab-hit", x: left + pos.x[j] - pos.width[j] / 2, y: y - 9, width: pos.width[j], height: 18, "data-i": i,
      tabindex: -1, role: "button", "aria-label": `token ${i} “${lab}”` }));
  });
  if (lo > 0) gTok.appendChild(svg("text", { class: "headlab-axis", x: 4, y: y + 4 }, `… ${lo}`));
  if (hi < v.labels.length) gTok.appendChild(svg("text", { class: "headlab-axis", x: W - 4, y: y + 4, "text-anchor": "end" }, `${v.labels.length - hi} …`));
  s.append(mk.defs, g, gTok);
  mount(v, s, "headlab-scroll", edges, lo, hi, ARC_LEGEND);
  return s;
}

export function drawLines(v: EdgeView, edges: SparseEdge[], lo: number, hi: number): SVGSVGElement {
  const labels = v.labels.slice(lo, hi);
  const n = labels.length, rowH = 16, pad = 10;
  const labW = Math.min(140, Math.max(40, Math.max(0, ...labels.map((l) => l.length)) * 7 + 8));
  const gap = 160, W = 2 * labW + gap + 2 * pad, H = n * rowH + 2 * pad + 14;
  const xl = pad + labW, xr = pad + labW + gap;
  const s = svg("svg", { class: "headlab-lines", width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "group",
    "aria-label": `attention lines, tokens ${lo}–${hi - 1}` });
  const mk = markers(edges);
  s.appendChild(svg("text", { class: "headlab-axis", x: xl, y: 10, "text-anchor": "end" }, lo > 0 ? `queries (from #${lo})` : "queries"));
  s.appendChild(svg("text", { class: "headlab-axis", x: xr, y: 10 }, "keys"));
  const yOf = (i: number) => pad + 14 + (Math.max(lo - 1, Math.min(hi, i)) - lo) * rowH + rowH / 2;
  const g = svg("g", { class: "headlab-arc-layer" });
  for (const e of edges) {
    const st = edgeStyle(e.w);
    const line = svg("line", {
      class: "headlab-arc", x1: xl + 4, y1: yOf(e.q), x2: xr - 4, y2: yOf(e.k), stroke: headColor(e.head),
      "stroke-width": st.width, "stroke-opacity": st.opacity, "data-q": e.q, "data-k": e.k,
      "data-head": headKey(...v.heads[e.head]), "data-w": e.w.toFixed(4), "marker-end": mk.id(e.head, e.w),
    });
    if (e.k < lo || e.k >= hi) line.setAttribute("stroke-dasharray", "3 2");
    g.appendChild(line);
  }
  const gTok = svg("g", { class: "headlab-tokens" });
  labels.forEach((lab, j) => {
    const i = lo + j;
    for (const side of [0, 1] as const) {
      const t = svg("text", {
        class: "headlab-token" + (v.special.has(i) ? " is-special" : ""), x: side ? xr : xl, y: yOf(i) + 4,
        "text-anchor": side ? "start" : "end", "data-i": i, "data-side": side ? "key" : "query",
      });
      t.textContent = lab;
      gTok.appendChild(t);
      gTok.appendChild(svg("rect", { class: "headlab-hit", x: side ? xr : xl - labW, y: yOf(i) - rowH / 2, width: labW, height: rowH,
        "data-i": i, "data-side": side ? "key" : "query", tabindex: -1, role: "button",
        "aria-label": `${side ? "key" : "query"} token ${i} “${lab}”` }));
    }
  });
  s.append(mk.defs, g, gTok);
  mount(v, s, "headlab-scroll headlab-scroll-y", edges, lo, hi, LINES_LEGEND);
  return s;
}

// shared tail: hover and keyboard focus, pinning, click to move the focus, a scroller, a legend,
// the export target
function mount(v: EdgeView, s: SVGSVGElement, scrollClass: string, edges: SparseEdge[], lo: number, hi: number, legendText: string) {
  const arcs = Array.from(s.querySelectorAll<SVGElement>(".headlab-arc"));
  const toks = Array.from(s.querySelectorAll<SVGElement>(".headlab-token"));
  const hits = Array.from(s.querySelectorAll<SVGElement>(".headlab-hit"));
  const hitOf = (i: number, side: string | null) =>
    hits.find((h) => Number(h.getAttribute("data-i")) === i && (side === null || h.getAttribute("data-side") === side)) ?? null;
  const describe = (i: number) => {
    const out = edges.filter((e) => e.q === i).sort((a, b) => b.w - a.w).slice(0, 5);
    const inc = edges.filter((e) => e.k === i && e.q !== i).sort((a, b) => b.w - a.w).slice(0, 5);
    const f = (e: SparseEdge, j: number) => `${v.labels[j]} ${fmt(e.w)}${v.heads.length > 1 ? ` (${headKey(...v.heads[e.head])})` : ""}`;
    return `“${v.labels[i]}” (#${i}) attends to: ${out.map((e) => f(e, e.k)).join(", ") || "–"} | attended by: ${inc.map((e) => f(e, e.q)).join(", ") || "–"}`;
  };
  const light = (i: number | null, side: string | null) => {
    s.classList.toggle("is-focus", i !== null);
    for (const a of arcs) {
      const q = Number(a.getAttribute("data-q")), k = Number(a.getAttribute("data-k"));
      a.classList.toggle("is-on", i !== null && (side === "query" ? q === i : side === "key" ? k === i : q === i || k === i));
    }
    for (const t of toks) t.classList.toggle("is-on", i !== null && Number(t.getAttribute("data-i")) === i);
  };
  /** Show token i's edges (hover, keyboard); null goes back to the pinned token, if any. */
  const focus = (i: number | null, side: string | null) => {
    const pin = v.pinned();
    const shown = i ?? (pin !== null && pin >= lo && pin < hi ? pin : null);
    light(shown, i === null ? null : side);
    s.classList.toggle("is-pinned", pin !== null);
    for (const t of toks) t.classList.toggle("is-pinned", pin !== null && Number(t.getAttribute("data-i")) === pin);
    if (shown === null) { v.info.textContent = v.idle(); return; }
    v.info.textContent = (shown === pin && i === null ? "Pinned (Esc unpins): " : "") + describe(shown);
  };
  const target = (ev: Event): [number, string | null] | null => {
    const t = ev.target as Element;
    const i = t.getAttribute?.("data-i");
    if (i === null || i === undefined || !(t.classList.contains("headlab-hit") || t.classList.contains("headlab-token"))) return null;
    return [Number(i), t.getAttribute("data-side")];
  };
  // roving tabindex: one token takes Tab (the pinned one, or the first), arrow keys move between them
  const rove = (el: SVGElement | null) => {
    if (!el) return;
    for (const h of hits) h.setAttribute("tabindex", h === el ? "0" : "-1");
  };
  const pin = v.pinned();
  rove((pin !== null ? hitOf(pin, hits[0]?.getAttribute("data-side") ?? null) : null) ?? hits[0] ?? null);
  const choose = (i: number) => { v.onPin(i); v.onPick(i); focus(null, null); };
  s.addEventListener("mouseover", (ev) => { const t = target(ev); if (t) focus(t[0], t[1]); }, { signal: v.signal });
  s.addEventListener("mouseleave", () => focus(null, null), { signal: v.signal });
  s.addEventListener("click", (ev) => { const t = target(ev); if (t) choose(t[0]); }, { signal: v.signal });
  s.addEventListener("focusin", (ev) => { const t = target(ev); if (t) focus(t[0], t[1]); }, { signal: v.signal });
  s.addEventListener("focusout", (ev) => { if (!s.contains(ev.relatedTarget as Node | null)) focus(null, null); }, { signal: v.signal });
  s.addEventListener("keydown", (ev) => {
    const t = target(ev);
    if (!t) return;
    if (ev.key === "Enter" || ev.key === " ") choose(t[0]);
    else if (ev.key === "Escape") { v.onPin(null); focus(t[0], t[1]); }
    else {
      const next = tokenMove(t[0], t[1], ev.key, lo, hi);
      if (!next) return;
      const el = hitOf(next[0], next[1]);
      rove(el);
      (el as unknown as HTMLElement | null)?.focus();
    }
    ev.preventDefault();
    ev.stopPropagation();   // keep the notebook from running its own shortcuts (Enter edits a cell)
  }, { signal: v.signal });
  // Tab goes to the tokens, not to the drawing or its scroller (Chromium makes both focusable)
  s.setAttribute("tabindex", "-1");
  const scroller = html("div", scrollClass, undefined, { tabindex: "-1" });
  scroller.appendChild(s);
  const legend = html("div", "headlab-arc-legend headlab-muted");
  const sample = svg("svg", { width: 30, height: 10, "aria-hidden": "true", class: "headlab-legend-svg" });
  sample.appendChild(svg("path", { d: "M2,5 L22,5", stroke: "currentColor", "stroke-width": 1.5 }));
  sample.appendChild(svg("path", { d: "M21,1.5 L28,5 L21,8.5 z", fill: "currentColor" }));
  legend.append(sample, document.createTextNode(` ${legendText}. ${KEYS_HELP}`));
  clear(v.body);
  v.body.append(scroller, legend);
  v.setExport(s);
  focus(null, null);
  if (v.refocus && pin !== null) (hitOf(pin, hits[0]?.getAttribute("data-side") ?? null) as unknown as HTMLElement | null)?.focus();
}

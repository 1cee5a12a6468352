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
}

const STUB = 26;

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
  const s = svg("svg", { class: "headlab-arcs", width: W, height: H, viewBox: `0 0 ${W} ${H}`, "data-lo": lo, "data-hi": hi });
  const g = svg("g", { class: "headlab-arc-layer" });
  for (const e of edges) {
    const st = edgeStyle(e.w);
    const col = headColor(e.head);
    let el: SVGElement;
    if (e.q === e.k) el = svg("circle", { cx: xOf(e.q), cy: y - 16, r: 1.5 + 3 * e.w, fill: col, "fill-opacity": st.opacity });
    else {
      const side = e.k < e.q ? -1 : 1;
      el = svg("path", { d: arcPath(xOf(e.q), xOf(e.k), y + side * 9, side, maxH), stroke: col, "stroke-width": st.width, "stroke-opacity": st.opacity, fill: "none" });
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
    gTok.appendChild(svg("rect", { class: "headlab-hit", x: left + pos.x[j] - pos.width[j] / 2, y: y - 9, width: pos.width[j], height: 18, "data-i": i }));
  });
  if (lo > 0) gTok.appendChild(svg("text", { class: "headlab-axis", x: 4, y: y + 4 }, `… ${lo}`));
  if (hi < v.labels.length) gTok.appendChild(svg("text", { class: "headlab-axis", x: W - 4, y: y + 4, "text-anchor": "end" }, `${v.labels.length - hi} …`));
  s.append(g, gTok);
  mount(v, s, "headlab-scroll", edges);
  return s;
}

export function drawLines(v: EdgeView, edges: SparseEdge[], lo: number, hi: number): SVGSVGElement {
  const labels = v.labels.slice(lo, hi);
  const n = labels.length, rowH = 16, pad = 10;
  const labW = Math.min(140, Math.max(40, Math.max(0, ...labels.map((l) => l.length)) * 7 + 8));
  const gap = 160, W = 2 * labW + gap + 2 * pad, H = n * rowH + 2 * pad + 14;
  const xl = pad + labW, xr = pad + labW + gap;
  const s = svg("svg", { class: "headlab-lines", width: W, height: H, viewBox: `0 0 ${W} ${H}` });
  s.appendChild(svg("text", { class: "headlab-axis", x: xl, y: 10, "text-anchor": "end" }, lo > 0 ? `queries (from #${lo})` : "queries"));
  s.appendChild(svg("text", { class: "headlab-axis", x: xr, y: 10 }, "keys"));
  const yOf = (i: number) => pad + 14 + (Math.max(lo - 1, Math.min(hi, i)) - lo) * rowH + rowH / 2;
  const g = svg("g", { class: "headlab-arc-layer" });
  for (const e of edges) {
    const st = edgeStyle(e.w);
    const line = svg("line", {
      class: "headlab-arc", x1: xl + 4, y1: yOf(e.q), x2: xr - 4, y2: yOf(e.k), stroke: headColor(e.head),
      "stroke-width": st.width, "stroke-opacity": st.opacity, "data-q": e.q, "data-k": e.k,
      "data-head": headKey(...v.heads[e.head]), "data-w": e.w.toFixed(4),
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
      gTok.appendChild(svg("rect", { class: "headlab-hit", x: side ? xr : xl - labW, y: yOf(i) - rowH / 2, width: labW, height: rowH, "data-i": i, "data-side": side ? "key" : "query" }));
    }
  });
  s.append(g, gTok);
  mount(v, s, "headlab-scroll headlab-scroll-y", edges);
  return s;
}

// shared tail: hover focus, click to move the focus, a scroller, the export target
function mount(v: EdgeView, s: SVGSVGElement, scrollClass: string, edges: SparseEdge[]) {
  const arcs = Array.from(s.querySelectorAll<SVGElement>(".headlab-arc"));
  const toks = Array.from(s.querySelectorAll<SVGElement>(".headlab-token"));
  const focus = (i: number | null, side: string | null) => {
    s.classList.toggle("is-focus", i !== null);
    for (const a of arcs) {
      const q = Number(a.getAttribute("data-q")), k = Number(a.getAttribute("data-k"));
      a.classList.toggle("is-on", i !== null && (side === "query" ? q === i : side === "key" ? k === i : q === i || k === i));
    }
    for (const t of toks) t.classList.toggle("is-on", i !== null && Number(t.getAttribute("data-i")) === i);
    if (i === null) { v.info.textContent = v.idle(); return; }
    const out = edges.filter((e) => e.q === i).sort((a, b) => b.w - a.w).slice(0, 5);
    const inc = edges.filter((e) => e.k === i && e.q !== i).sort((a, b) => b.w - a.w).slice(0, 5);
    const f = (e: SparseEdge, j: number) => `${v.labels[j]} ${fmt(e.w)}${v.heads.length > 1 ? ` (${headKey(...v.heads[e.head])})` : ""}`;
    v.info.textContent = `“${v.labels[i]}” (#${i}) attends to: ${out.map((e) => f(e, e.k)).join(", ") || "–"} | attended by: ${inc.map((e) => f(e, e.q)).join(", ") || "–"}`;
  };
  const target = (ev: Event): [number, string | null] | null => {
    const t = ev.target as Element;
    const i = t.getAttribute?.("data-i");
    if (i === null || i === undefined || !(t.classList.contains("headlab-hit") || t.classList.contains("headlab-token"))) return null;
    return [Number(i), t.getAttribute("data-side")];
  };
  s.addEventListener("mouseover", (ev) => { const t = target(ev); if (t) focus(t[0], t[1]); }, { signal: v.signal });
  s.addEventListener("mouseleave", () => focus(null, null), { signal: v.signal });
  s.addEventListener("click", (ev) => { const t = target(ev); if (t) v.onPick(t[0]); }, { signal: v.signal });
  const scroller = html("div", scrollClass);
  scroller.appendChild(s);
  clear(v.body);
  v.body.appendChild(scroller);
  v.setExport(s);
}

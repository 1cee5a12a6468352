// AttentionView: one or more heads on a text, as arcs (reading order), bipartite lines
// (queries left, keys right) or a canvas matrix for long inputs. Patterns come from a
// PatternStore (custom messages or embedded export data), never from synced state.

import { Tooltip, clear, exportButtons, html, svg } from "./dom";
import {
  aggregateUnits, arcHeight, arcPath, autoMode, cellAt, edgeStyle, matrixCell,
  selectEdges, tokenUnits, unitPositions, type Edge,
} from "./layout";
import { PatternStore } from "./patterns";
import { extent, fmt, headColor, hexToRgb, mix, normalizer, viridis, type RGB } from "./scales";
import { headKey, type AnyModel, type Head, type Unit } from "./protocol";

const MAX_EDGES = 1500;

export function mountAttention(model: AnyModel, host: HTMLElement, signal: AbortSignal, store: PatternStore): () => void {
  const root = html("div", "headlab-att");
  host.appendChild(root);

  // ---- controls ----
  const bar = html("div", "headlab-bar");
  const modeSel = html("select", "headlab-mode", undefined, { "aria-label": "View" });
  for (const [v, t] of [["auto", "auto"], ["arcs", "arcs"], ["lines", "lines"], ["matrix", "matrix"]]) {
    const o = html("option", "", t); o.value = v; modeSel.appendChild(o);
  }
  const wordBox = html("input", "headlab-words", undefined, { type: "checkbox", "aria-label": "Aggregate to words" });
  const wordLabel = html("label", "headlab-label");
  wordLabel.append(wordBox, document.createTextNode(" words"));
  const topk = html("input", "headlab-topk", undefined, { type: "number", min: "0", max: "50", step: "1", "aria-label": "Top k keys per query" });
  const topkLabel = html("label", "headlab-label", "top-k ");
  topkLabel.appendChild(topk);
  const thr = html("input", "headlab-threshold", undefined, { type: "range", min: "0", max: "1", step: "0.01", "aria-label": "Weight threshold" });
  const thrVal = html("span", "headlab-thr-val");
  const thrLabel = html("label", "headlab-label", "threshold ");
  thrLabel.append(thr, thrVal);
  const chips = html("span", "headlab-chips");
  let currentSvg: SVGSVGElement | null = null;
  bar.append(modeSel, wordLabel, topkLabel, thrLabel, chips, exportButtons(() => currentSvg, "headlab-attention", root));
  const body = html("div", "headlab-att-body");
  const info = html("div", "headlab-info", "", { "aria-live": "polite" });
  root.append(bar, body, info);
  const tip = new Tooltip(root);

  const aggCache = new Map<string, Float32Array>();
  let seq = 0;

  function units(): { list: Unit[]; word: boolean } {
    const u = model.get("units") ?? [];
    const word = model.get("level") === "word" && u.length > 0;
    return { list: word ? u : tokenUnits(model.get("tokens") ?? []), word };
  }

  function syncControls() {
    modeSel.value = model.get("mode") ?? "auto";
    wordBox.checked = model.get("level") === "word";
    wordBox.disabled = !(model.get("units") ?? []).length;
    topk.value = String(model.get("top_k") ?? 3);
    thr.value = String(model.get("threshold") ?? 0);
    thrVal.textContent = ` ${fmt(model.get("threshold") ?? 0)}`;
    clear(chips);
    (model.get("heads") ?? []).forEach(([l, h], i) => {
      const chip = html("button", "headlab-chip", headKey(l, h), { type: "button", title: "Remove this head", "data-head-key": headKey(l, h) });
      chip.style.setProperty("--headlab-chip", headColor(i));
      chip.addEventListener("click", () => {
        model.set("heads", (model.get("heads") ?? []).filter(([a, b]) => a !== l || b !== h));
        model.save_changes();
      });
      chips.appendChild(chip);
    });
  }

  async function refresh() {
    const my = ++seq;
    syncControls();
    const heads: Head[] = model.get("heads") ?? [];
    body.dataset.heads = heads.map(([l, h]) => headKey(l, h)).join(",");
    if (!heads.length) {
      clear(body); currentSvg = null;
      body.dataset.state = "empty";
      body.appendChild(html("div", "headlab-muted", "No head chosen: click a head in the grid (shift-click to overlay several)."));
      return;
    }
    body.dataset.state = "loading";
    let pats;
    try {
      pats = await Promise.all(heads.map(([l, h]) => store.get(l, h)));
    } catch (e) {
      if (my !== seq) return;
      clear(body); currentSvg = null;
      body.dataset.state = "error";
      body.appendChild(html("div", "headlab-error", `Attention not available: ${(e as Error).message}`));
      return;
    }
    if (my !== seq) return;
    const { list, word } = units();
    const mats = pats.map((p, i) => {
      if (!word) return p.data;
      const key = `${headKey(heads[i][0], heads[i][1])}:w`;
      let m = aggCache.get(key);
      if (!m) { m = aggregateUnits(p.data, p.n, list); aggCache.set(key, m); }
      return m;
    });
    const n = list.length;
    const mode0 = model.get("mode") ?? "auto";
    const mode = mode0 === "auto" ? autoMode(n) : mode0;
    clear(body);
    body.dataset.mode = mode;
    const labels = list.map((u) => u[2]);
    const special = new Set(word ? [] : model.get("special") ?? []);
    if (mode === "matrix") drawMatrix(mats, n, labels, heads);
    else {
      const opt = { topK: model.get("top_k") ?? 3, threshold: model.get("threshold") ?? 0 };
      const edges = mats.flatMap((m, i) => selectEdges(m, n, opt, i));
      edges.sort((a, b) => b.w - a.w);
      const shown = edges.slice(0, MAX_EDGES);
      (mode === "lines" ? drawLines : drawArcs)(shown, labels, special, heads);
      info.textContent = `${shown.length} edge(s)${edges.length > shown.length ? ` (strongest ${MAX_EDGES} of ${edges.length})` : ""} · hover a token to focus its edges`;
    }
    body.dataset.state = "ready";
  }

  // ---- arcs ----
  function drawArcs(edges: Edge[], labels: string[], special: Set<number>, heads: Head[]) {
    const pos = unitPositions(labels);
    const pad = 12, maxH = 150;
    let up = 10, down = 10;
    for (const e of edges) {
      const hgt = arcHeight(pos.x[e.q], pos.x[e.k], maxH);
      if (e.k < e.q) up = Math.max(up, hgt); else if (e.k > e.q) down = Math.max(down, hgt);
    }
    const y = pad + up + 12;
    const W = pos.total + 2 * pad, H = y + down + pad + 12;
    const s = svg("svg", { class: "headlab-arcs", width: W, height: H, viewBox: `0 0 ${W} ${H}` });
    const gArcs = svg("g", { class: "headlab-arc-layer" });
    for (const e of edges) {
      const st = edgeStyle(e.w);
      const x1 = pad + pos.x[e.q], x2 = pad + pos.x[e.k];
      const col = headColor(e.head);
      let el: SVGElement;
      if (e.q === e.k) el = svg("circle", { cx: x1, cy: y - 16, r: 1.5 + 3 * e.w, fill: col, "fill-opacity": st.opacity });
      else {
        const side = e.k < e.q ? -1 : 1;
        el = svg("path", { d: arcPath(x1, x2, y + side * 9, side, maxH), stroke: col, "stroke-width": st.width, "stroke-opacity": st.opacity, fill: "none" });
      }
      el.classList.add("headlab-arc");
      el.setAttribute("data-q", String(e.q)); el.setAttribute("data-k", String(e.k));
      el.setAttribute("data-head", headKey(...heads[e.head])); el.setAttribute("data-w", e.w.toFixed(4));
      gArcs.appendChild(el);
    }
    const gTok = svg("g", { class: "headlab-tokens" });
    labels.forEach((lab, i) => {
      const t = svg("text", { class: "headlab-token" + (special.has(i) ? " is-special" : ""), x: pad + pos.x[i], y: y + 4, "text-anchor": "middle", "data-i": i });
      t.textContent = lab;          // tokens are text nodes, never markup
      gTok.appendChild(t);
      gTok.appendChild(svg("rect", { class: "headlab-hit", x: pad + pos.x[i] - pos.width[i] / 2, y: y - 9, width: pos.width[i], height: 18, "data-i": i }));
    });
    s.append(gArcs, gTok);
    mountEdges(s, "headlab-scroll", edges, labels, heads);
  }

  // ---- bipartite lines ----
  function drawLines(edges: Edge[], labels: string[], special: Set<number>, heads: Head[]) {
    const n = labels.length, rowH = 16, pad = 10;
    const labW = Math.min(140, Math.max(40, Math.max(...labels.map((l) => l.length)) * 7 + 8));
    const gap = 160, W = 2 * labW + gap + 2 * pad, H = n * rowH + 2 * pad + 14;
    const xl = pad + labW, xr = pad + labW + gap;
    const s = svg("svg", { class: "headlab-lines", width: W, height: H, viewBox: `0 0 ${W} ${H}` });
    s.appendChild(svg("text", { class: "headlab-axis", x: xl, y: 10, "text-anchor": "end" }, "queries"));
    s.appendChild(svg("text", { class: "headlab-axis", x: xr, y: 10 }, "keys"));
    const yOf = (i: number) => pad + 14 + i * rowH + rowH / 2;
    const g = svg("g", { class: "headlab-arc-layer" });
    for (const e of edges) {
      const st = edgeStyle(e.w);
      g.appendChild(svg("line", {
        class: "headlab-arc", x1: xl + 4, y1: yOf(e.q), x2: xr - 4, y2: yOf(e.k), stroke: headColor(e.head),
        "stroke-width": st.width, "stroke-opacity": st.opacity, "data-q": e.q, "data-k": e.k,
        "data-head": headKey(...heads[e.head]), "data-w": e.w.toFixed(4),
      }));
    }
    const gTok = svg("g", { class: "headlab-tokens" });
    labels.forEach((lab, i) => {
      for (const side of [0, 1] as const) {
        const t = svg("text", {
          class: "headlab-token" + (special.has(i) ? " is-special" : ""), x: side ? xr : xl, y: yOf(i) + 4,
          "text-anchor": side ? "start" : "end", "data-i": i, "data-side": side ? "key" : "query",
        });
        t.textContent = lab;
        gTok.appendChild(t);
        gTok.appendChild(svg("rect", { class: "headlab-hit", x: side ? xr : xl - labW, y: yOf(i) - rowH / 2, width: labW, height: rowH, "data-i": i, "data-side": side ? "key" : "query" }));
      }
    });
    s.append(g, gTok);
    mountEdges(s, "headlab-scroll headlab-scroll-y", edges, labels, heads);
  }

  // shared tail of the arc and line views: hover focus, a scroller, and the export target
  function mountEdges(s: SVGSVGElement, scrollClass: string, edges: Edge[], labels: string[], heads: Head[]) {
    wireFocus(s, edges, labels, heads);
    const scroller = html("div", scrollClass);
    scroller.appendChild(s);
    body.appendChild(scroller);
    currentSvg = s;
  }

  function wireFocus(s: SVGSVGElement, edges: Edge[], labels: string[], heads: Head[]) {
    const arcs = Array.from(s.querySelectorAll<SVGElement>(".headlab-arc"));
    const toks = Array.from(s.querySelectorAll<SVGElement>(".headlab-token"));
    const focus = (i: number | null, side: string | null) => {
      s.classList.toggle("is-focus", i !== null);
      arcs.forEach((a) => {
        const q = Number(a.getAttribute("data-q")), k = Number(a.getAttribute("data-k"));
        const on = i !== null && (side === "query" ? q === i : side === "key" ? k === i : q === i || k === i);
        a.classList.toggle("is-on", on);
      });
      toks.forEach((t) => t.classList.toggle("is-on", i !== null && Number(t.getAttribute("data-i")) === i));
      if (i === null) return;
      const out = edges.filter((e) => e.q === i).sort((a, b) => b.w - a.w).slice(0, 5);
      const inc = edges.filter((e) => e.k === i && e.q !== i).sort((a, b) => b.w - a.w).slice(0, 5);
      const f = (e: Edge, j: number) => `${labels[j]} ${fmt(e.w)}${heads.length > 1 ? ` (${headKey(...heads[e.head])})` : ""}`;
      info.textContent = `“${labels[i]}” (#${i}) attends to: ${out.map((e) => f(e, e.k)).join(", ") || "–"} | attended by: ${inc.map((e) => f(e, e.q)).join(", ") || "–"}`;
    };
    s.addEventListener("mouseover", (ev) => {
      const t = ev.target as Element;
      const i = t.getAttribute?.("data-i");
      if (i !== null && i !== undefined && (t.classList.contains("headlab-hit") || t.classList.contains("headlab-token")))
        focus(Number(i), t.getAttribute("data-side"));
    }, { signal });
    s.addEventListener("mouseleave", () => focus(null, null), { signal });
  }

  // ---- matrix (canvas) ----
  function drawMatrix(mats: Float32Array[], n: number, labels: string[], heads: Head[]) {
    const cell = matrixCell(n);
    const canvas = html("canvas", "headlab-matrix", undefined, { width: String(n), height: String(n), "aria-label": `attention matrix, ${n} by ${n}, rows are queries` });
    const size = n * cell;
    canvas.style.width = `${size}px`;
    canvas.style.height = `${size}px`;
    const ctx = canvas.getContext("2d");
    const bg: RGB = [255, 255, 255];
    if (ctx) {
      const img = ctx.createImageData(n, n);
      const norms = mats.map((m) => normalizer(0, extent(m)[1]));
      const cols = heads.map((_, i) => hexToRgb(headColor(i)));
      for (let p = 0; p < n * n; p++) {
        let c: RGB;
        if (mats.length === 1) c = viridis(norms[0](mats[0][p]));
        else {
          let best = 0, bv = -1;
          for (let i = 0; i < mats.length; i++) { const v = norms[i](mats[i][p]); if (v > bv) { bv = v; best = i; } }
          c = mix(bg, cols[best], bv);
        }
        img.data[4 * p] = c[0]; img.data[4 * p + 1] = c[1]; img.data[4 * p + 2] = c[2]; img.data[4 * p + 3] = 255;
      }
      ctx.putImageData(img, 0, 0);
    }
    const wrap = html("div", "headlab-matrix-wrap");
    wrap.appendChild(canvas);
    body.appendChild(wrap);
    canvas.addEventListener("mousemove", (ev) => {
      const r = canvas.getBoundingClientRect();
      const rc = cellAt(ev.clientX - r.left, ev.clientY - r.top, n, r.width);
      if (!rc) { tip.hide(); return; }
      const [q, k] = rc;
      tip.show([`query #${q} “${labels[q]}” → key #${k} “${labels[k]}”`,
        ...heads.map(([l, h], i) => `${headKey(l, h)}: ${fmt(mats[i][q * n + k])}`)], ev.clientX, ev.clientY);
    }, { signal });
    canvas.addEventListener("mouseleave", () => tip.hide(), { signal });
    info.textContent = `${n} × ${n} matrix, rows are queries, columns are keys${mats.length > 1 ? "; colour = strongest head" : ""} · hover for weights`;
    // export: an SVG that embeds the canvas as an image
    const s = svg("svg", { width: size, height: size });
    s.appendChild(svg("image", { href: canvas.toDataURL("image/png"), width: size, height: size, style: "image-rendering:pixelated" }));
    currentSvg = s;
  }

  // ---- control events ----
  modeSel.addEventListener("change", () => { model.set("mode", modeSel.value as never); model.save_changes(); }, { signal });
  wordBox.addEventListener("change", () => { model.set("level", wordBox.checked ? "word" : "token"); model.save_changes(); }, { signal });
  const onTopk = () => {
    if (topk.value === "") return;          // mid-edit
    const v = Math.max(0, Math.min(50, Math.round(Number(topk.value) || 0)));
    if (v !== model.get("top_k")) { model.set("top_k", v); model.save_changes(); }
  };
  topk.addEventListener("input", onTopk, { signal });
  topk.addEventListener("change", onTopk, { signal });
  thr.addEventListener("input", () => { model.set("threshold", Number(thr.value)); model.save_changes(); }, { signal });

  const onTokens = () => { aggCache.clear(); store.reset(); void refresh(); };
  const onChange = () => void refresh();
  const traits = ["heads", "mode", "level", "top_k", "threshold", "units", "special"];
  for (const t of traits) model.on(`change:${t}`, onChange);
  model.on("change:tokens", onTokens);
  void refresh();
  return () => {
    for (const t of traits) model.off(`change:${t}`, onChange);
    model.off("change:tokens", onTokens);
  };
}

// AttentionView: one or more heads on a text. Short inputs: arcs (reading order), bipartite
// lines or a matrix. Long inputs (above 80 units): a heat-strip of the whole text coloured by
// attention from or to a focused token, with arcs windowed around that token; a zoomable
// matrix with a block-max overview. Patterns are sparse rows from a PatternStore (custom
// messages or data embedded in a saved output), never synced state. Edge thresholds adapt
// to the input unless the user sets one, and the info line says what they hide.

import { drawArcs, drawLines, type EdgeView } from "./arcs";
import { Tooltip, clear, exportButtons, html } from "./dom";
import { tokenUnits } from "./layout";
import { drawMatrix, type MatrixState } from "./matrix";
import { PatternStore } from "./patterns";
import { headKey, type AnyModel, type Head, type Unit } from "./protocol";
import { fmt, headColor } from "./scales";
import {
  aggregateSparse, autoThreshold, columnOf, defaultFocus, holdsRows, rowOf, topEdges, unitIndex, windowAround,
  type Sparse, type SparseEdge,
} from "./sparse";
import { HeatStrip } from "./strip";

const MAX_EDGES = 1500;
/** Arcs draw every unit up to this many; above, a window around the focused token. */
export const ARC_WINDOW = 80;
/** Units in the arcs under a heat-strip. */
export const STRIP_WINDOW = 48;

/** The mode drawn for `n` units: auto is arcs up to ARC_WINDOW units, a heat-strip above. */
export function resolveMode(mode: string | undefined, n: number): "arcs" | "lines" | "matrix" | "strip" {
  if (mode === "arcs" || mode === "lines" || mode === "matrix" || mode === "strip") return mode;
  return n <= ARC_WINDOW ? "arcs" : "strip";
}

/**
 * Above ARC_WINDOW units the page's own focus (focus_token -1) is picked among the first this
 * many queries: the text is read from its start, and the windows around such a focus lie in the
 * first rows a long head sends (256 queries, headlab/views/attention_view.py EARLY_ROWS).
 */
export const FOCUS_SEARCH = 128;

/** Units the arcs span in `mode` (whole texts up to ARC_WINDOW units; above, about one screen). */
export function arcWidth(mode: "arcs" | "lines" | "strip", n: number): number {
  return n <= ARC_WINDOW ? n : mode === "lines" ? 2 * ARC_WINDOW : STRIP_WINDOW;
}

/**
 * The queries [lo, hi) a view in `mode` draws from around unit `focus` of `n` (-1: a focus the
 * page picks, among the first FOCUS_SEARCH), when that is not every query: a long head's first
 * reply (the rows around the focus) is then enough to draw. Null when it needs every row: the
 * matrix, strip colours *to* the focus, whole texts.
 */
export function rowsNeeded(mode: "arcs" | "lines" | "matrix" | "strip", n: number, focus: number, direction: string): [number, number] | null {
  if (mode === "matrix" || (mode === "strip" && direction === "to") || n <= ARC_WINDOW) return null;
  const width = arcWidth(mode, n);
  if (focus < 0) return [0, Math.min(n, Math.max(width, FOCUS_SEARCH + Math.ceil(width / 2)))];
  const [lo, hi] = windowAround(n, focus, width);
  return [Math.min(lo, focus), Math.max(hi, focus + 1)];
}

export interface EdgeChoice { edges: SparseEdge[]; threshold: number; auto: boolean; candidates: number; strongestHidden: number }

/**
 * Edges to draw for queries in [lo, hi): each query's top-k kept keys, then a weight threshold,
 * either the user's or (threshold null) one that keeps about `target` edges.
 */
export function chooseEdges(pats: Sparse[], lo: number, hi: number, topK: number, threshold: number | null, target: number): EdgeChoice {
  const cand = pats.flatMap((p, i) => topEdges(p, lo, hi, topK, 0, i));
  const auto = threshold === null || threshold === undefined;
  const thr = auto ? autoThreshold(cand.map((e) => e.w), Math.min(target, MAX_EDGES)) : (threshold as number);
  const kept = cand.filter((e) => e.w >= thr).sort((a, b) => b.w - a.w);
  let strongestHidden = 0;
  for (const e of cand) if (e.w < thr && e.w > strongestHidden) strongestHidden = e.w;
  return { edges: kept.slice(0, MAX_EDGES), threshold: thr, auto, candidates: cand.length, strongestHidden };
}

/** What the info line says about the edges drawn, and how to see more when some are hidden. */
export function edgeMessage(c: EdgeChoice, topK: number): string {
  const shown = c.edges.length;
  let s = `${shown} of ${c.candidates} edge(s) · weight ≥ ${fmt(c.threshold)} (${c.auto ? "auto" : "set"})` +
    (topK > 0 ? ` · top-${topK} keys per query` : "");
  if (shown === 0 && c.candidates > 0)
    s += ` · no edge reaches ${fmt(c.threshold)} (the strongest is ${fmt(c.strongestHidden)}): lower the threshold or press auto to see them`;
  else if (shown < c.candidates)
    s += ` · ${c.candidates - shown} weaker edge(s) hidden: lower the threshold${c.auto ? "" : " or press auto"} to see more`;
  return s;
}

export function mountAttention(model: AnyModel, host: HTMLElement, signal: AbortSignal, store: PatternStore): () => void {
  const root = html("div", "headlab-att");
  host.appendChild(root);

  // ---- controls ----
  const bar = html("div", "headlab-bar");
  const modeSel = html("select", "headlab-mode", undefined, { "aria-label": "View" });
  for (const v of ["auto", "arcs", "lines", "strip", "matrix"]) { const o = html("option", "", v); o.value = v; modeSel.appendChild(o); }
  const wordBox = html("input", "headlab-words", undefined, { type: "checkbox", "aria-label": "Aggregate to words" });
  const wordLabel = html("label", "headlab-label");
  wordLabel.append(wordBox, document.createTextNode(" words"));
  const topk = html("input", "headlab-topk", undefined, { type: "number", min: "0", max: "50", step: "1", "aria-label": "Top k keys per query" });
  const topkLabel = html("label", "headlab-label", "top-k ");
  topkLabel.appendChild(topk);
  const thr = html("input", "headlab-threshold", undefined, { type: "range", min: "0", max: "1", step: "0.001", value: "0", "aria-label": "Weight threshold" });
  const thrVal = html("span", "headlab-thr-val");
  const thrAuto = html("button", "headlab-btn headlab-thr-auto", "auto", { type: "button", title: "Let the threshold adapt to the input" });
  const thrLabel = html("label", "headlab-label", "threshold ");
  thrLabel.append(thr, thrVal);
  const dirSel = html("select", "headlab-direction", undefined, { "aria-label": "Strip colours" });
  for (const [v, t] of [["from", "attention from focus"], ["to", "attention to focus"]]) { const o = html("option", "", t); o.value = v; dirSel.appendChild(o); }
  const chips = html("span", "headlab-chips");
  let currentSvg: SVGSVGElement | null = null;
  bar.append(modeSel, wordLabel, topkLabel, thrLabel, thrAuto, dirSel, chips, exportButtons(() => currentSvg, "headlab-attention", root));
  const body = html("div", "headlab-att-body");
  const info = html("div", "headlab-info", "", { "aria-live": "polite" });
  const kept = html("div", "headlab-kept headlab-muted");
  root.append(bar, body, info, kept);
  const tip = new Tooltip(root);

  const aggCache = new Map<string, Sparse>();
  const matrixState: MatrixState = { zoom: 64, r0: 0, c0: 0, centredOn: -1 };
  let layout: { key: string; strip: HeatStrip; box: HTMLElement; legend: HTMLElement; arcs: HTMLElement; pick: (i: number) => void; focus: number } | null = null;
  let seq = 0;
  // A view whose element has left the page fetches nothing: jupyterlab_widgets renders an updated
  // output into a new view without disposing the old one, which would otherwise go on asking the
  // kernel for every head clicked. It catches up if it is shown again.
  let wasOnPage = false, stale = false;
  const offPage = () => { wasOnPage ||= root.isConnected; return wasOnPage && !root.isConnected; };
  const onScreen = typeof IntersectionObserver === "undefined" ? null : new IntersectionObserver((entries) => {
    if (!entries.some((e) => e.isIntersecting)) return;
    wasOnPage = true;
    if (stale) { stale = false; void refresh(); }
  });
  onScreen?.observe(root);
  // the unit the page picked to focus when focus_token is -1 (for this text and level): kept
  // across heads, so heads compare on one token and a long head's first rows can be asked for it
  let picked: { key: string; focus: number } | null = null;
  // the pinned token (unit index; Enter or click pins it, Escape unpins): its edges stay shown
  let pinned: number | null = null;
  let pinnedKey = "";

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
    const t = model.get("threshold");
    if (t !== null && t !== undefined) { thr.value = String(t); thrVal.textContent = ` ${fmt(t)}`; }
    thrAuto.classList.toggle("is-on", t === null || t === undefined);
    dirSel.value = model.get("direction") ?? "from";
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

  function pickUnit(i: number, list: Unit[], word: boolean) {
    const token = word ? list[i]?.[0] ?? i : i;
    if (token === model.get("focus_token")) return;
    model.set("focus_token", token);
    model.save_changes();
  }

  function keptLine(pats: Sparse[]): string {
    const low = Math.min(...pats.map((p) => p.keptMean));
    if (!(low < 0.995)) return "";
    const worst = Math.min(...pats.map((p) => p.keptMin));
    return `Patterns keep each query's strongest keys (up to ${Math.max(...pats.map((p) => p.kMax))}): ` +
      `${Math.round(100 * low)}% of its attention on average, at least ${Math.round(100 * worst)}%; weaker keys are not drawn.`;
  }

  async function refresh() {
    const my = ++seq;
    if (offPage()) { stale = true; return; }
    tip.hide();                 // what it pointed at is about to be redrawn (a new mode, head or focus)
    syncControls();
    const heads: Head[] = model.get("heads") ?? [];
    body.dataset.heads = heads.map(([l, h]) => headKey(l, h)).join(",");
    if (!heads.length) {
      clear(body); currentSvg = null; kept.textContent = ""; layout = null;
      body.dataset.state = "empty";
      body.appendChild(html("div", "headlab-muted", "No head chosen: click a head in the grid (shift-click to overlay several)."));
      info.textContent = "";
      return;
    }
    body.dataset.state = "loading";
    const { list, word } = units();
    const n = list.length;
    const nTok = (model.get("tokens") ?? []).length;
    const ft = model.get("focus_token") ?? -1;
    const unitsKey = `${word}:${n}`;
    // the focus, when known before any pattern is here (-1: picked from the first head's pattern)
    let known = ft >= 0 && ft < nTok ? (word ? Math.max(0, unitIndex(list, nTok)[ft]) : ft) : picked?.key === unitsKey ? picked.focus : -1;
    const mode = resolveMode(model.get("mode"), n);
    // token-level windows can be drawn from a long head's first rows; word units need every row.
    // A focus still to be picked lies among the first queries: the first rows are asked for.
    const need = word ? null : rowsNeeded(mode, n, known, model.get("direction") ?? "from");
    const whole = Promise.all(heads.map(([l, h]) => store.get(l, h, need ? Math.max(0, known) : -1)));
    whole.catch(() => {});      // a failure shows below, through `first` or `await whole`
    try {
      if (need) {
        // each head's early rows, or its whole pattern when that comes first (or is here already)
        const first = await Promise.all(heads.map(([l, h]) => store.first(l, h)));
        if (my !== seq) return;
        const early = first.some((p) => p.rows);
        if (!early) { draw(heads, first, list, word, known, mode, false); return; }
        if (first.every((p) => holdsRows(p, need[0], need[1]))) {
          draw(heads, first, list, word, known, mode, true);
          known = picked?.key === unitsKey ? picked.focus : known;     // the whole head keeps the focus shown
        }
      }
      const pats = await whole;
      if (my !== seq) return;
      draw(heads, pats, list, word, known, mode, false);
    } catch (e) {
      if (my !== seq) return;
      clear(body); currentSvg = null; kept.textContent = ""; layout = null;
      body.dataset.state = "error";
      body.appendChild(html("div", "headlab-error", `Attention not available: ${(e as Error).message}`));
    }
  }

  /** Draw `pats` (`early`: only the rows around the focus are here; the whole heads follow). */
  function draw(heads: Head[], pats: Sparse[], list: Unit[], word: boolean, known: number, mode: ReturnType<typeof resolveMode>, early: boolean) {
    wasOnPage ||= root.isConnected;          // (a view's first refresh runs before it is put on the page)
    const mats = pats.map((p, i) => {
      if (!word) return p;
      const key = `${headKey(heads[i][0], heads[i][1])}:w`;
      let m = aggCache.get(key);
      if (!m) { m = aggregateSparse(p, list); aggCache.set(key, m); }
      return m;
    });
    const n = list.length;
    const labels = list.map((u) => u[2]);
    const special = new Set<number>(word ? [] : model.get("special") ?? []);
    const unitsKey = `${word}:${n}`;
    const focus = known >= 0 ? known : defaultFocus(mats[0], special, n > ARC_WINDOW ? FOCUS_SEARCH : n);
    if (known < 0) picked = { key: unitsKey, focus };
    const topK = model.get("top_k") ?? 3;
    const threshold = model.get("threshold") ?? null;
    dirSel.hidden = mode !== "strip";
    body.dataset.mode = mode;
    body.dataset.focus = String(focus);
    kept.textContent = [keptLine(pats), early ? "Rows around the focus shown; the rest of the pattern is coming…" : ""].filter(Boolean).join(" ");
    const pick = (i: number) => pickUnit(i, list, word);
    // a pin belongs to one text at one level; keyboard focus inside the view comes back after a redraw
    if (unitsKey !== pinnedKey) { pinned = null; pinnedKey = unitsKey; }
    const refocus = root.contains(document.activeElement) && !!document.activeElement?.classList.contains("headlab-hit");
    const edgeView = (container: HTMLElement, idle: () => string): EdgeView => ({
      body: container, info, signal, labels, special, heads, onPick: pick, idle,
      setExport: (s) => { currentSvg = s; },
      pinned: () => pinned, onPin: (i) => { pinned = i; root.dataset.pinned = i === null ? "" : String(i); }, refocus,
    });
    const drawEdges = (container: HTMLElement, lo: number, hi: number, lines: boolean, prefix = "") => {
      const c = chooseEdges(mats, lo, hi, topK, threshold, Math.max(40, 2 * (hi - lo)));
      if (c.auto) { thr.value = String(c.threshold); thrVal.textContent = ` auto (${fmt(c.threshold)})`; }
      const where = lo > 0 || hi < n ? ` · units ${lo}–${hi - 1} of ${n} around “${labels[focus]}” (#${focus}); click a token to move` : "";
      const idle = () => `${prefix}${edgeMessage(c, topK)}${where}`;
      (lines ? drawLines : drawArcs)(edgeView(container, idle), c.edges, lo, hi);
      info.textContent = idle();
    };
    if (mode === "matrix") {
      clear(body); layout = null;
      drawMatrix({ body, info, tip, signal, labels, heads, onPick: pick, setExport: (s) => { currentSvg = s; } }, mats, focus, matrixState);
    } else if (mode === "strip") {
      // The strip stays in the page between clicks: a new head or focus recolours it and redraws the arcs.
      const key = `${word}:${n}:${labels[0] ?? ""}:${labels[n - 1] ?? ""}`;
      if (!layout || layout.key !== key || layout.box.parentElement !== body) {
        clear(body);
        const describe = (i: number, w: number) => `#${i} “${labels[i]}”: ${fmt(w)} ${model.get("direction") === "to" ? "to" : "from"} “${labels[Number(body.dataset.focus)]}”`;
        const strip = new HeatStrip(labels, special, (i) => layout?.pick(i), tip, describe, signal);
        const box = html("div", "headlab-strip-box", undefined, { tabindex: "0" });
        box.appendChild(strip.el);
        layout = { key, strip, box, legend: html("div", "headlab-muted headlab-strip-legend"), arcs: html("div", "headlab-strip-arcs"), pick, focus };
        const l = layout;
        box.addEventListener("keydown", (ev) => {
          if (ev.key !== "ArrowLeft" && ev.key !== "ArrowRight") return;
          ev.preventDefault(); ev.stopPropagation();
          l.pick(Math.max(0, Math.min(n - 1, l.focus + (ev.key === "ArrowLeft" ? -1 : 1))));
        }, { signal });
        body.append(layout.legend, box, layout.arcs);
      }
      layout.pick = pick;
      layout.focus = focus;
      const dir = model.get("direction") ?? "from";
      layout.legend.textContent = `Colour: attention ${dir === "to" ? "to" : "from"} “${labels[focus]}” (#${focus}) ${dir === "to" ? "from" : "to"} each token` +
        `${heads.length > 1 ? ` (${headKey(...heads[0])})` : ""}, darker = more. Click a token to focus it; ←/→ move.`;
      layout.strip.colour(dir === "to" ? columnOf(mats[0], focus) : rowOf(mats[0], focus), focus);
      layout.strip.reveal(focus);
      const [lo, hi] = windowAround(n, focus, arcWidth("strip", n));
      drawEdges(layout.arcs, lo, hi, false);
    } else {
      clear(body); layout = null;
      const [lo, hi] = windowAround(n, focus, arcWidth(mode, n));
      drawEdges(body, lo, hi, mode === "lines");
    }
    body.dataset.state = early ? "early" : "ready";
  }

  // ---- control events ----
  modeSel.addEventListener("change", () => { model.set("mode", modeSel.value as never); model.save_changes(); }, { signal });
  wordBox.addEventListener("change", () => { model.set("level", wordBox.checked ? "word" : "token"); model.save_changes(); }, { signal });
  dirSel.addEventListener("change", () => { model.set("direction", dirSel.value as never); model.save_changes(); }, { signal });
  const onTopk = () => {
    if (topk.value === "") return;          // mid-edit
    const v = Math.max(0, Math.min(50, Math.round(Number(topk.value) || 0)));
    if (v !== model.get("top_k")) { model.set("top_k", v); model.save_changes(); }
  };
  topk.addEventListener("input", onTopk, { signal });
  topk.addEventListener("change", onTopk, { signal });
  thr.addEventListener("input", () => { model.set("threshold", Number(thr.value)); model.save_changes(); }, { signal });
  thrAuto.addEventListener("click", () => { model.set("threshold", null); model.save_changes(); }, { signal });

  const onTokens = () => { aggCache.clear(); store.reset(); layout = null; picked = null; void refresh(); };
  const onChange = () => void refresh();
  const traits = ["heads", "mode", "level", "top_k", "threshold", "units", "special", "focus_token", "direction"];
  for (const t of traits) model.on(`change:${t}`, onChange);
  model.on("change:tokens", onTokens);
  // A matrix is painted over the page's background (and labelled in its text colour): repaint it
  // when JupyterLab switches between the light and the dark theme.
  const themeWatch = typeof MutationObserver === "undefined" ? null : new MutationObserver(() => {
    if (body.dataset.mode === "matrix") void refresh();
  });
  themeWatch?.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light", "data-jp-theme-name"] });
  void refresh();
  return () => {
    for (const t of traits) model.off(`change:${t}`, onChange);
    model.off("change:tokens", onTokens);
    themeWatch?.disconnect();
    onScreen?.disconnect();
  };
}

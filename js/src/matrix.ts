// Matrix view on canvas: the whole [n, n] pattern for short inputs; for long ones a block-max
// overview (each pixel the strongest weight of a block, so no sharp edge disappears when
// shrunk) beside a zoomable detail window labelled with its tokens. Rows are queries.

import { Tooltip, backgroundOf, html, svg } from "./dom";
import { cellAt, matrixCell } from "./layout";
import { headKey, type Head } from "./protocol";
import { fmt, headColor, hexToRgb, mix, parseCssColour, rgbToHex, viridis, type RGB } from "./scales";
import { blockMax, denseOf, maxWeight, windowAround, type Sparse } from "./sparse";

/** Inputs up to this many units are drawn whole, one cell per entry. */
export const SMALL_MATRIX = 160;
export const ZOOMS = [16, 32, 64, 128, 256];

export interface MatrixState { zoom: number; r0: number; c0: number; centredOn: number }

export interface MatrixView {
  body: HTMLElement;
  info: HTMLElement;
  tip: Tooltip;
  signal: AbortSignal;
  labels: string[];
  heads: Head[];
  onPick: (i: number) => void;
  setExport: (s: SVGSVGElement | null) => void;
}

/** The page's background under the view (the theme's: white in light, near-black in dark). */
export function themeBackground(e: Element): RGB {
  return parseCssColour(backgroundOf(e)) ?? [255, 255, 255];
}

/**
 * Colour of one cell: viridis for one head; with several, the strongest head's colour blended
 * over the theme's background `bg` (so the dark theme does not get a white matrix).
 */
export function painter(pats: Sparse[], bg: RGB = [255, 255, 255]) {
  const max = pats.map((p) => maxWeight(p) || 1);
  const cols = pats.map((_, i) => hexToRgb(headColor(i)));
  return (vals: number[]): RGB => {
    if (vals.length === 1) return viridis(vals[0] / max[0]);
    let best = 0, bv = -1;
    vals.forEach((v, i) => { const t = v / max[i]; if (t > bv) { bv = t; best = i; } });
    return mix(bg, cols[best], bv);
  };
}

function put(img: ImageData, p: number, c: RGB) {
  img.data[4 * p] = c[0]; img.data[4 * p + 1] = c[1]; img.data[4 * p + 2] = c[2]; img.data[4 * p + 3] = 255;
}

function exportCanvas(v: MatrixView, canvas: HTMLCanvasElement, w: number, h: number) {
  const s = svg("svg", { width: w, height: h });
  s.appendChild(svg("image", { href: canvas.toDataURL("image/png"), width: w, height: h, style: "image-rendering:pixelated" }));
  v.setExport(s);
}

export function drawMatrix(v: MatrixView, pats: Sparse[], focus: number, st: MatrixState): void {
  const n = pats[0].n;
  if (n <= SMALL_MATRIX) drawWhole(v, pats);
  else drawZoomable(v, pats, focus, st);
}

function drawWhole(v: MatrixView, pats: Sparse[]) {
  const n = pats[0].n;
  const mats = pats.map(denseOf);
  const cell = matrixCell(n);
  const canvas = html("canvas", "headlab-matrix", undefined, {
    width: String(n), height: String(n), tabindex: "0", role: "img",
    "aria-label": `attention matrix, ${n} by ${n}, rows are queries; arrow keys move between cells, Enter focuses the row's token`,
  });
  const size = n * cell;
  canvas.style.width = `${size}px`;
  canvas.style.height = `${size}px`;
  const bg = themeBackground(v.body);
  const ctx = canvas.getContext("2d");
  if (ctx) {
    const img = ctx.createImageData(n, n);
    const paint = painter(pats, bg);
    for (let p = 0; p < n * n; p++) put(img, p, paint(mats.map((m) => m[p])));
    ctx.putImageData(img, 0, 0);
  }
  canvas.dataset.background = rgbToHex(bg);
  const wrap = html("div", "headlab-matrix-wrap");
  const cursorBox = html("div", "headlab-matrix-cursor");
  cursorBox.hidden = true;
  wrap.append(canvas, cursorBox);
  v.body.appendChild(wrap);
  const lines = (q: number, k: number) => [`query #${q} “${v.labels[q]}” → key #${k} “${v.labels[k]}”`,
    ...v.heads.map(([l, h], i) => `${headKey(l, h)}: ${fmt(mats[i][q * n + k])}`)];
  /** The page box of cell (q, k): the tooltip sits at its corner. */
  const boxOf = (q: number, k: number) => {
    const r = canvas.getBoundingClientRect(), c = r.width / n;
    return { left: r.left + k * c, top: r.top + q * c, right: r.left + (k + 1) * c, bottom: r.top + (q + 1) * c };
  };
  canvas.addEventListener("mousemove", (ev) => {
    const r = canvas.getBoundingClientRect();
    const rc = cellAt(ev.clientX - r.left, ev.clientY - r.top, n, r.width);
    if (!rc) { v.tip.hide(); return; }
    v.tip.showAt(lines(rc[0], rc[1]), boxOf(rc[0], rc[1]));
  }, { signal: v.signal });
  canvas.addEventListener("mouseleave", () => v.tip.hide(), { signal: v.signal });
  canvas.addEventListener("click", (ev) => {
    const r = canvas.getBoundingClientRect();
    const rc = cellAt(ev.clientX - r.left, ev.clientY - r.top, n, r.width);
    if (rc) v.onPick(rc[0]);
  }, { signal: v.signal });
  // keyboard: a cell cursor, its weights in the tooltip and the info line
  let cur: [number, number] = [0, 0];
  const showCursor = () => {
    Object.assign(cursorBox.style, { left: `${cur[1] * cell}px`, top: `${cur[0] * cell}px`, width: `${cell}px`, height: `${cell}px` });
    cursorBox.hidden = false;
    const text = lines(cur[0], cur[1]);
    v.tip.showAt(text, boxOf(cur[0], cur[1]));
    v.info.textContent = text.join(" · ");
  };
  canvas.addEventListener("focus", showCursor, { signal: v.signal });
  canvas.addEventListener("blur", () => { cursorBox.hidden = true; v.tip.hide(); }, { signal: v.signal });
  canvas.addEventListener("keydown", (ev) => {
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const m = moves[ev.key];
    if (m) cur = [Math.max(0, Math.min(n - 1, cur[0] + m[0])), Math.max(0, Math.min(n - 1, cur[1] + m[1]))];
    else if (ev.key === "Enter") v.onPick(cur[0]);
    else if (ev.key === "Escape") { v.tip.hide(); cursorBox.hidden = true; }
    else return;
    ev.preventDefault();
    ev.stopPropagation();
    if (ev.key !== "Escape") showCursor();
  }, { signal: v.signal });
  v.info.textContent = `${n} × ${n} matrix, rows are queries, columns are keys${pats.length > 1 ? "; colour = strongest head" : ""} · hover for weights, or focus it and use the arrow keys`;
  exportCanvas(v, canvas, size, size);
}

function drawZoomable(v: MatrixView, pats: Sparse[], focus: number, st: MatrixState) {
  const n = pats[0].n;
  if (st.centredOn !== focus) {
    [st.r0] = windowAround(n, focus, st.zoom);
    st.c0 = st.r0;
    st.centredOn = focus;
  }
  const bg = themeBackground(v.body);
  const paint = painter(pats, bg);
  const wrap = html("div", "headlab-matrix-zoom");
  // ---- overview: block maxima
  const block = Math.ceil(n / 240);
  const bms = pats.map((p) => blockMax(p, block));
  const nb = bms[0].nb;
  const scale = Math.max(1, Math.floor(300 / nb));
  const over = html("canvas", "headlab-matrix-overview", undefined, { width: String(nb), height: String(nb), "aria-label": `overview: strongest weight of each ${block} × ${block} block` });
  over.style.width = over.style.height = `${nb * scale}px`;
  const octx = over.getContext("2d");
  if (octx) {
    const img = octx.createImageData(nb, nb);
    for (let p = 0; p < nb * nb; p++) put(img, p, paint(bms.map((b) => b.data[p])));
    octx.putImageData(img, 0, 0);
  }
  const overBox = html("div", "headlab-matrix-overbox");
  const frame = html("div", "headlab-matrix-frame");
  overBox.append(over, frame);
  // ---- detail window
  const Z = st.zoom;
  const cell = Math.max(2, Math.floor(512 / Z));
  const labW = 96, labH = 74;
  const detail = html("canvas", "headlab-matrix headlab-matrix-detail", undefined, {
    width: String(labW + Z * cell), height: String(labH + Z * cell), tabindex: "0",
    "aria-label": `detail: queries ${st.r0}–${st.r0 + Z - 1}, keys ${st.c0}–${st.c0 + Z - 1}`,
  });
  const vals = pats.map((p) => {
    const out = new Float32Array(Z * Z);
    for (let q = st.r0; q < Math.min(n, st.r0 + Z); q++)
      for (let j = p.start[q]; j < p.start[q + 1]; j++) {
        const k = p.keys[j] - st.c0;
        if (k >= 0 && k < Z) out[(q - st.r0) * Z + k] += p.weights[j];
      }
    return out;
  });
  const dctx = detail.getContext("2d");
  if (dctx) {
    dctx.fillStyle = rgbToHex(bg);
    dctx.fillRect(labW, labH, Z * cell, Z * cell);
    for (let a = 0; a < Z; a++) for (let b = 0; b < Z; b++) {
      const c = paint(vals.map((m) => m[a * Z + b]));
      dctx.fillStyle = `rgb(${c[0] | 0},${c[1] | 0},${c[2] | 0})`;
      dctx.fillRect(labW + b * cell, labH + a * cell, cell, cell);
    }
    const every = Math.max(1, Math.ceil(10 / cell));
    dctx.font = "10px monospace";
    dctx.fillStyle = getComputedStyle(v.body).color || "#222";
    const cut = (s: string) => (s.length > 12 ? `${s.slice(0, 11)}…` : s);
    for (let a = 0; a < Z && st.r0 + a < n; a += every) {
      dctx.textAlign = "right";
      dctx.fillText(cut(v.labels[st.r0 + a]), labW - 4, labH + a * cell + cell / 2 + 3);   // canvas text: never markup
    }
    for (let b = 0; b < Z && st.c0 + b < n; b += every) {
      dctx.save();
      dctx.translate(labW + b * cell + cell / 2 + 3, labH - 4);
      dctx.rotate(-Math.PI / 2);
      dctx.textAlign = "left";
      dctx.fillText(cut(v.labels[st.c0 + b]), 0, 0);
      dctx.restore();
    }
  }
  // ---- controls
  const bar = html("div", "headlab-bar headlab-matrix-bar");
  const zoomOut = html("button", "headlab-btn", "−", { type: "button", "data-zoom": "out", title: "Show more tokens" });
  const zoomIn = html("button", "headlab-btn", "+", { type: "button", "data-zoom": "in", title: "Show fewer tokens, larger" });
  bar.append(zoomOut, zoomIn, html("span", "headlab-muted", `${Z} × ${Z} window`));
  const redraw = () => { v.body.replaceChildren(); drawZoomable(v, pats, st.centredOn, st); };
  const zoomTo = (z: number) => {
    const cq = st.r0 + st.zoom / 2, ck = st.c0 + st.zoom / 2;
    st.zoom = z;
    st.r0 = windowAround(n, cq, z)[0];
    st.c0 = windowAround(n, ck, z)[0];
    redraw();
  };
  zoomOut.addEventListener("click", () => { const i = ZOOMS.indexOf(Z); if (i < ZOOMS.length - 1) zoomTo(ZOOMS[i + 1]); }, { signal: v.signal });
  zoomIn.addEventListener("click", () => { const i = ZOOMS.indexOf(Z); if (i > 0) zoomTo(ZOOMS[i - 1]); }, { signal: v.signal });
  over.addEventListener("click", (ev) => {
    const r = over.getBoundingClientRect();
    const q = Math.floor(((ev.clientY - r.top) / r.height) * n), k = Math.floor(((ev.clientX - r.left) / r.width) * n);
    st.r0 = windowAround(n, q, Z)[0];
    st.c0 = windowAround(n, k, Z)[0];
    redraw();
  }, { signal: v.signal });
  detail.addEventListener("keydown", (ev) => {
    const step = Math.max(1, Z >> 2);
    const moves: Record<string, [number, number]> = { ArrowUp: [-step, 0], ArrowDown: [step, 0], ArrowLeft: [0, -step], ArrowRight: [0, step] };
    const m = moves[ev.key];
    if (!m) return;
    ev.preventDefault();
    ev.stopPropagation();
    st.r0 = Math.max(0, Math.min(n - Z, st.r0 + m[0]));
    st.c0 = Math.max(0, Math.min(n - Z, st.c0 + m[1]));
    redraw();
    (v.body.querySelector(".headlab-matrix-detail") as HTMLElement | null)?.focus();
  }, { signal: v.signal });
  const cellOf = (ev: MouseEvent): [number, number] | null => {
    const r = detail.getBoundingClientRect();
    const x = ev.clientX - r.left - labW, y = ev.clientY - r.top - labH;
    if (x < 0 || y < 0 || x >= Z * cell || y >= Z * cell) return null;
    return [st.r0 + Math.floor(y / cell), st.c0 + Math.floor(x / cell)];
  };
  detail.addEventListener("mousemove", (ev) => {
    const rc = cellOf(ev);
    if (!rc || rc[0] >= n || rc[1] >= n) { v.tip.hide(); return; }
    const [q, k] = rc;
    const r = detail.getBoundingClientRect();
    const x0 = r.left + labW + (k - st.c0) * cell, y0 = r.top + labH + (q - st.r0) * cell;
    v.tip.showAt([`query #${q} “${v.labels[q]}” → key #${k} “${v.labels[k]}”`,
      ...v.heads.map(([l, h], i) => `${headKey(l, h)}: ${fmt(vals[i][(q - st.r0) * Z + (k - st.c0)])}`)],
    { left: x0, top: y0, right: x0 + cell, bottom: y0 + cell });
  }, { signal: v.signal });
  detail.addEventListener("mouseleave", () => v.tip.hide(), { signal: v.signal });
  detail.addEventListener("click", (ev) => { const rc = cellOf(ev); if (rc && rc[0] < n) v.onPick(rc[0]); }, { signal: v.signal });
  // the frame marks the detail window on the overview
  const px = (nb * scale) / n;
  Object.assign(frame.style, { left: `${st.c0 * px}px`, top: `${st.r0 * px}px`, width: `${Math.max(2, Z * px)}px`, height: `${Math.max(2, Z * px)}px` });
  const side = html("div", "headlab-matrix-side");
  side.append(overBox, html("div", "headlab-muted", `overview: strongest weight in each ${block} × ${block} block; click to move the window`));
  wrap.append(side, html("div", "headlab-matrix-main"));
  (wrap.lastChild as HTMLElement).append(bar, detail);
  v.body.appendChild(wrap);
  v.info.textContent = `${n} × ${n} matrix, rows are queries: queries ${st.r0}–${Math.min(n, st.r0 + Z) - 1}, keys ${st.c0}–${Math.min(n, st.c0 + Z) - 1} · +/− zoom, arrow keys pan, click a row to focus its token`;
  exportCanvas(v, detail, labW + Z * cell, labH + Z * cell);
}

// HeadGrid: layers x heads of one role's scores on the shared colour scale (scales.ts), or of
// every head's attention pattern (thumbnails), with significance dots, selection, catalogue
// highlight, explanations where the numbers are, accessible names and keyboard navigation.

import { bytesOf, decodePacked } from "./codec";
import { Tooltip, clear, exportButtons, html, svg } from "./dom";
import { type CellStats, cellLabel, cellTip, patternHelp, roleHelp, type TipLine } from "./explain";
import { gridMove } from "./layout";
import { headKey, type AnyModel, type Head, type PackedThumbs, type ScoreInfo } from "./protocol";
import { NEGATIVE_STOPS, VIRIDIS_STOPS, contrastColor, domain, fmt, hexToRgb, ownRange, scoreColour } from "./scales";

export interface GridOptions {
  /** Called on click / Enter; default sets `selected`. */
  onPick?: (head: Head, additive: boolean) => void;
}

export interface RoleStats {
  score: Float32Array; ci_low?: Float32Array; ci_high?: Float32Array;
  p?: Float32Array; q?: Float32Array; sig?: Float32Array; n?: Float32Array;
}

/** Slice the [R, F, L, H] block into named [L*H] arrays for role index r. */
export function roleStats(all: Float32Array, shape: number[], fields: string[], r: number): RoleStats {
  const [, F, L, H] = shape;
  const n = L * H;
  const out: Record<string, Float32Array> = {};
  fields.forEach((f, i) => { out[f] = all.subarray((r * F + i) * n, (r * F + i + 1) * n); });
  return out as unknown as RoleStats;
}

/** One head's numbers out of a role's stats. */
export function cellStats(st: RoleStats, i: number): CellStats {
  const at = (a?: Float32Array) => (a ? a[i] : undefined);
  return { score: st.score[i], ci_low: at(st.ci_low), ci_high: at(st.ci_high), p: at(st.p), q: at(st.q),
    sig: !!st.sig && st.sig[i] > 0, n: at(st.n) };
}

/** Size of one grid cell in px for H heads (scores mode). */
export function gridCellSize(H: number): number {
  return Math.max(10, Math.min(28, Math.floor(520 / Math.max(1, H))));
}

/** Pixels per thumbnail block for H heads of S blocks: the grid stays about 640 px wide. */
export function thumbScale(H: number, S: number): number {
  return Math.max(1, Math.min(4, Math.floor(640 / Math.max(1, H * S))));
}

let SHARE_LUT: [number, number, number][] | null = null;

/**
 * RGBA pixels of every head's thumbnail, laid out as the grid: cell pitch S * k + 2 px (a 1 px
 * gap on each side), each block k x k px coloured on the shared "share" scale (0..1 viridis).
 * `data`: uint8 [L, H, S, S], byte / 255 = share.
 */
export function thumbPixels(data: Uint8Array, L: number, H: number, S: number, k: number): { width: number; height: number; rgba: Uint8ClampedArray } {
  SHARE_LUT ??= Array.from({ length: 256 }, (_, i) => hexToRgb(scoreColour(i / 255, 0, 1)));
  const c = S * k + 2, width = H * c, height = L * c;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) {
    const base = (l * H + h) * S * S;
    for (let a = 0; a < S; a++) for (let b = 0; b < S; b++) {
      const col = SHARE_LUT[data[base + a * S + b]];
      for (let dy = 0; dy < k; dy++) {
        let p = ((l * c + 1 + a * k + dy) * width + h * c + 1 + b * k) * 4;
        for (let dx = 0; dx < k; dx++, p += 4) { rgba[p] = col[0]; rgba[p + 1] = col[1]; rgba[p + 2] = col[2]; rgba[p + 3] = 255; }
      }
    }
  }
  return { width, height, rgba };
}

const TRAITS = ["role", "roles", "grid", "fields", "selected", "highlight", "highlight_label", "matches", "role_matches",
  "n_layers", "n_heads", "alpha", "has_stats", "pending", "notice", "score_info", "grid_mode", "thumbs"];
let gridIds = 0;

export function mountGrid(model: AnyModel, host: HTMLElement, signal: AbortSignal, opts: GridOptions = {}): () => void {
  const uid = `headlab-g${++gridIds}`;
  const root = html("div", "headlab-grid");
  host.appendChild(root);
  const bar = html("div", "headlab-bar");
  const roleLabel = html("label", "headlab-label", "Role ");
  const roleSel = html("select", "headlab-role", undefined, { "aria-label": "Role" });
  roleLabel.appendChild(roleSel);
  const modes = html("span", "headlab-seg", undefined, { role: "group", "aria-label": "Cells show" });
  const modeBtn = (mode: "scores" | "patterns", text: string, title: string) => {
    const b = html("button", "headlab-btn headlab-seg-btn", text, { type: "button", "data-grid-mode": mode, title });
    b.addEventListener("click", () => { if (!b.disabled) { model.set("grid_mode", mode); model.save_changes(); } }, { signal });
    return b;
  };
  const scoresBtn = modeBtn("scores", "scores", "Each cell: the head's score for the role");
  const patternsBtn = modeBtn("patterns", "patterns", "Each cell: a thumbnail of the head's attention on the text");
  modes.append(scoresBtn, patternsBtn);
  const gridSvg = svg("svg", { class: "headlab-grid-svg", tabindex: 0, role: "grid" });
  const help = html("div", "headlab-role-help headlab-muted", "", { "aria-live": "polite" });
  const legend = html("div", "headlab-legend");
  const status = html("div", "headlab-status", "", { "aria-live": "polite" });
  const progress = html("div", "headlab-progress-row");
  const progressBar = html("progress", "headlab-progress");
  const progressText = html("span", "headlab-muted");
  progress.append(progressBar, progressText);
  const notice = html("div", "headlab-notice");
  const scroll = html("div", "headlab-grid-scroll");
  scroll.appendChild(gridSvg);
  bar.append(roleLabel, modes, exportButtons(() => gridSvg, "headlab-grid", root));
  root.append(bar, help, progress, scroll, legend, status, notice);
  const tip = new Tooltip(root);
  let cursor: Head | null = null;
  let focused = false;
  let decoded: { key: unknown; data: Float32Array } | null = null;
  let thumbUrl: { key: unknown; k: number; url: string } | null = null;
  let lastShown = "";
  // geometry of the drawing on display (cell pitch c, margins), shared by cells, cursor and tooltips
  const geom = { left: 34, top: 22, c: 28 };

  const pick = (h: Head, additive: boolean) => {
    if (opts.onPick) opts.onPick(h, additive);
    else { model.set("selected", h); model.save_changes(); }
  };

  const data = () => {
    const g = model.get("grid");
    if (!g) return null;
    if (!decoded || decoded.key !== g) decoded = { key: g, data: decodePacked(g) };
    return { shape: g.shape, all: decoded.data };
  };
  const info = (): Partial<ScoreInfo> => model.get("score_info") ?? {};
  const thumbs = (): PackedThumbs | null => {
    const t = model.get("thumbs");
    return t && t.buf && t.shape?.length === 4 ? t : null;
  };
  const mode = (): "scores" | "patterns" => (model.get("grid_mode") === "patterns" && thumbs() ? "patterns" : "scores");

  function currentRole(): number {
    const roles = model.get("roles") ?? [];
    const i = roles.indexOf(model.get("role"));
    return i >= 0 ? i : 0;
  }

  function tooltipLines(l: number, h: number, st: RoleStats | null): TipLine[] {
    const i = l * model.get("n_heads") + h;
    const roles = model.get("roles") ?? [];
    const role = roles[currentRole()] ?? "";
    const lines: TipLine[] = st
      ? cellTip(headKey(l, h), role, cellStats(st, i), info(), !!model.get("has_stats"), model.get("alpha"))
      : [`${headKey(l, h)} · ${role}`];
    const t = thumbs();
    if (mode() === "patterns" && t) lines.push([patternHelp(t.shape[2], t.block), "headlab-tip-help"]);
    const m = model.get("matches")?.[headKey(l, h)];
    lines.push(m && m.length ? `published as: ${m.join(", ")}` : "catalogue: no published role for this head");
    const fits = model.get("role_matches")?.[role]?.[headKey(l, h)];
    if (fits?.length) lines.push(`consistent with: ${fits.join(", ")}`);
    return lines;
  }

  function drawControls(roles: string[], pending: Set<string>) {
    if (roleSel.options.length !== roles.length || roles.some((r, i) => roleSel.options[i].value !== r)) {
      clear(roleSel);
      for (const r of roles) { const o = html("option", "", r); o.value = r; roleSel.appendChild(o); }
    }
    roles.forEach((r, i) => { roleSel.options[i].textContent = pending.has(r) ? `${r} (scoring…)` : r; });
    roleSel.value = roles[currentRole()] ?? "";
    roleLabel.hidden = roles.length === 0;
    const t = thumbs(), m = mode();
    patternsBtn.disabled = !t;
    patternsBtn.title = t ? "Each cell: a thumbnail of the head's attention on the text"
      : "Patterns need the attention on a text (hl.explore, or HeadGrid(report, attention=att)); not available here";
    scoresBtn.setAttribute("aria-pressed", String(m === "scores"));
    patternsBtn.setAttribute("aria-pressed", String(m === "patterns"));
    root.dataset.mode = m;
    root.dataset.pending = String(pending.size);
    progress.hidden = pending.size === 0;
    progressBar.max = Math.max(1, roles.length);
    progressBar.value = roles.length - pending.size;
    progressText.textContent = pending.size ? ` scoring roles in the background: ${roles.length - pending.size} of ${roles.length} ready` : "";
    notice.textContent = model.get("notice") ?? "";
    notice.hidden = !notice.textContent;
    const role = roles[currentRole()];
    help.textContent = role ? roleHelp(role, info()) : "";
    help.hidden = !help.textContent;
  }

  function draw() {
    const L = model.get("n_layers"), H = model.get("n_heads");
    const roles = model.get("roles") ?? [];
    const pending = new Set(model.get("pending") ?? []);
    drawControls(roles, pending);

    const d = data();
    const st = d ? roleStats(d.all, d.shape, model.get("fields"), currentRole()) : null;
    const role = roles[currentRole()] ?? "";
    const kind = info().kinds?.[role];
    const [lo, hi] = domain(kind, st?.score);
    const t = thumbs(), m = mode();
    // a tooltip explains one role in one mode: it goes when they change (not when scores arrive)
    const shown = `${role}|${m}|${L}|${H}`;
    if (shown !== lastShown) tip.hide();
    lastShown = shown;
    const S = t ? t.shape[2] : 0, k = t ? thumbScale(H, S) : 0;
    geom.c = m === "patterns" ? S * k + 2 : gridCellSize(H);
    const { left, top, c } = geom;
    const W = left + H * c + 2, Ht = top + L * c + 2;
    clear(gridSvg);
    gridSvg.setAttribute("width", String(W));
    gridSvg.setAttribute("height", String(Ht));
    gridSvg.setAttribute("viewBox", `0 0 ${W} ${Ht}`);
    gridSvg.setAttribute("aria-label", m === "patterns"
      ? `${L} layers by ${H} heads: each head's attention pattern on the text; role ${role || "none"} for the numbers`
      : `${L} layers by ${H} heads, ${role || "no role"} score per head`);
    const axisStep = H > 16 ? 4 : 1;
    for (let h = 0; h < H; h += axisStep)
      gridSvg.appendChild(svg("text", { class: "headlab-axis", x: left + h * c + c / 2, y: top - 7, "text-anchor": "middle", "aria-hidden": "true" }, String(h)));
    for (let l = 0; l < L; l++)
      gridSvg.appendChild(svg("text", { class: "headlab-axis", x: left - 6, y: top + l * c + c / 2 + 4, "text-anchor": "end", "aria-hidden": "true" }, `L${l}`));
    gridSvg.appendChild(svg("text", { class: "headlab-axis headlab-axis-title", x: left - 6, y: top - 7, "text-anchor": "end", "aria-hidden": "true" }, "head"));

    if (m === "patterns" && t) gridSvg.appendChild(thumbImage(t, L, H, S, k));
    const sel = model.get("selected");
    const cells = svg("g", { class: "headlab-cells", role: "rowgroup" });
    const marks = svg("g", { class: "headlab-marks", "aria-hidden": "true" });
    const hasStats = !!model.get("has_stats");
    for (let l = 0; l < L; l++) {
      const row = svg("g", { role: "row", "aria-rowindex": l + 1 });
      for (let h = 0; h < H; h++) {
        const i = l * H + h;
        const v = st ? st.score[i] : NaN;
        const fill = Number.isFinite(v) ? scoreColour(v, lo, hi) : null;
        const x = left + h * c, y = top + l * c;
        const isSel = !!sel && sel[0] === l && sel[1] === h;
        const rect = svg("rect", {
          class: "headlab-cell" + (m === "patterns" ? " is-thumb" : fill ? "" : " is-missing"), x, y, width: c - 1, height: c - 1,
          "data-layer": l, "data-head": h, fill: m === "patterns" ? "transparent" : fill ?? "none",
          id: `${uid}-${l}-${h}`, role: "gridcell", "aria-colindex": h + 1, "aria-selected": String(isSel),
          "aria-label": st ? cellLabel(headKey(l, h), role, cellStats(st, i), hasStats) : `${headKey(l, h)}: no score yet`,
        });
        row.appendChild(rect);
        if (st?.sig && st.sig[i] > 0 && Number.isFinite(v)) {
          marks.appendChild(m === "patterns"
            ? svg("circle", { class: "headlab-sig is-corner", cx: x + c - 6, cy: y + 5, r: 3, fill: "#ffffff", stroke: "#000000", "stroke-width": 1, "data-layer": l, "data-head": h })
            : svg("circle", { class: "headlab-sig", cx: x + (c - 1) / 2, cy: y + (c - 1) / 2, r: Math.max(2, c * 0.16),
              fill: contrastColor(hexToRgb(fill!)), "data-layer": l, "data-head": h }));
        }
      }
      cells.appendChild(row);
    }
    gridSvg.append(cells, marks);
    for (const [l, h] of model.get("highlight") ?? []) {
      if (l < L && h < H)
        gridSvg.appendChild(svg("rect", { class: "headlab-hl", x: left + h * c + 1.5, y: top + l * c + 1.5, width: c - 4, height: c - 4, "data-layer": l, "data-head": h }));
    }
    if (sel) gridSvg.appendChild(svg("rect", { class: "headlab-sel", x: left + sel[1] * c - 1, y: top + sel[0] * c - 1, width: c + 1, height: c + 1, "data-layer": sel[0], "data-head": sel[1] }));
    drawCursor();

    drawLegend(lo, hi, kind, st !== null, m, t);
    const hl = model.get("highlight") ?? [];
    status.textContent = (sel ? `Selected ${headKey(sel[0], sel[1])}. ` : "Click a head to select it. ") +
      (hl.length ? `${hl.length} head(s) outlined: ${model.get("highlight_label") || "highlight"}.` : "") +
      (pending.has(role) ? ` Role ${role} is still being scored.` : "");
  }

  /** The thumbnails as one <image> (drawn on a canvas), so the SVG export keeps them. */
  function thumbImage(t: PackedThumbs, L: number, H: number, S: number, k: number): SVGImageElement {
    if (!thumbUrl || thumbUrl.key !== t || thumbUrl.k !== k) {
      const { width, height, rgba } = thumbPixels(bytesOf(t.buf), L, H, S, k);
      const canvas = html("canvas", "", undefined, { width: String(width), height: String(height) });
      canvas.getContext("2d")?.putImageData(new ImageData(rgba, width, height), 0, 0);
      thumbUrl = { key: t, k, url: canvas.toDataURL("image/png") };
    }
    const { left, top, c } = geom;
    return svg("image", { class: "headlab-thumbs", href: thumbUrl.url, x: left, y: top, width: H * c, height: L * c,
      "image-rendering": "pixelated", preserveAspectRatio: "none", "aria-hidden": "true" });
  }

  /** The keyboard cursor is a separate overlay: redrawing cells under a click would eat it. */
  function drawCursor() {
    gridSvg.querySelector(".headlab-cursor")?.remove();
    if (!cursor || !focused) { gridSvg.removeAttribute("aria-activedescendant"); return; }
    const { left, top, c } = geom;
    gridSvg.setAttribute("aria-activedescendant", `${uid}-${cursor[0]}-${cursor[1]}`);
    gridSvg.appendChild(svg("rect", { class: "headlab-cursor", x: left + cursor[1] * c, y: top + cursor[0] * c, width: c - 1, height: c - 1 }));
  }

  function ramp(s: SVGSVGElement, x: number, w: number, stops: string[], reversed: boolean) {
    const n = 24;
    for (let i = 0; i < n; i++) {
      const f = i / (n - 1), at = reversed ? 1 - f : f;
      const pos = at * (stops.length - 1), j = Math.min(Math.floor(pos), stops.length - 2);
      const a = hexToRgb(stops[j]), b = hexToRgb(stops[j + 1]), g = pos - j;
      const col = `rgb(${[0, 1, 2].map((q) => Math.round(a[q] + (b[q] - a[q]) * g)).join(",")})`;
      s.appendChild(svg("rect", { x: x + i * (w / n), y: 0, width: w / n + 0.5, height: 10, fill: col }));
    }
  }

  function drawLegend(lo: number, hi: number, kind: string | undefined, hasData: boolean, m: string, t: PackedThumbs | null) {
    clear(legend);
    if (m === "patterns" && t) {
      const s = svg("svg", { width: 210, height: 26, class: "headlab-legend-svg", "aria-hidden": "true" });
      ramp(s, 0, 140, VIRIDIS_STOPS, false);
      s.appendChild(svg("text", { class: "headlab-axis", x: 0, y: 22 }, "0"));
      s.appendChild(svg("text", { class: "headlab-axis", x: 140, y: 22, "text-anchor": "end" }, "1"));
      legend.append(html("span", "headlab-legend-title", "share"), s,
        html("span", "headlab-muted headlab-legend-note", patternHelp(t.shape[2], t.block)));
      return;
    }
    if (!hasData) { legend.appendChild(html("span", "", "no scores")); return; }
    const neg = lo < 0 ? 60 : 0, w = 140;
    const s = svg("svg", { width: neg + w + 30, height: 26, class: "headlab-legend-svg", "aria-hidden": "true" });
    if (neg) {
      ramp(s, 0, neg, NEGATIVE_STOPS, true);        // lo (left, light) ... just below 0 (dark)
      s.appendChild(svg("text", { class: "headlab-axis", x: neg, y: 22, "text-anchor": "middle" }, "0"));
    }
    ramp(s, neg, w, VIRIDIS_STOPS, false);
    s.appendChild(svg("text", { class: "headlab-axis", x: 0, y: 22 }, fmt(lo)));
    s.appendChild(svg("text", { class: "headlab-axis", x: neg + w, y: 22, "text-anchor": "end" }, fmt(hi)));
    legend.appendChild(html("span", "headlab-legend-title", "score"));
    legend.appendChild(s);
    if (ownRange(kind)) legend.appendChild(html("span", "headlab-muted headlab-own-range", "(range of this role)"));
    if (model.get("has_stats")) {
      const k = svg("svg", { width: 14, height: 14, class: "headlab-legend-svg", "aria-hidden": "true" });
      k.appendChild(svg("rect", { x: 0, y: 0, width: 14, height: 14, fill: scoreColour(0.3, 0, 1) }));
      k.appendChild(svg("circle", { cx: 7, cy: 7, r: 3, fill: "#ffffff" }));
      legend.append(k, html("span", "", `significant (q < ${model.get("alpha")})`));
    } else legend.appendChild(html("span", "headlab-muted", "scores on this text only: no significance test"));
    legend.appendChild(html("span", "headlab-muted headlab-legend-note", ownRange(kind)
      ? "Colour: the score (effect size), over this role's range; not p or q."
      : "Colour: the score (effect size) on a fixed scale, the same in every view and in the HTML report; not p or q."));
  }

  // ---- interaction ----
  const cellOf = (t: EventTarget | null): Head | null => {
    const e = t as Element | null;
    if (!e || !e.getAttribute) return null;
    const l = e.getAttribute("data-layer"), h = e.getAttribute("data-head");
    return l === null || h === null ? null : [Number(l), Number(h)];
  };
  const stNow = () => { const d = data(); return d ? roleStats(d.all, d.shape, model.get("fields"), currentRole()) : null; };
  const cellRect = (c: Head) => gridSvg.querySelector(`rect.headlab-cell[data-layer="${c[0]}"][data-head="${c[1]}"]`);
  const showTip = (c: Head) => {
    const el = cellRect(c);
    if (el) tip.showAt(tooltipLines(c[0], c[1], stNow()), el.getBoundingClientRect());
  };
  gridSvg.addEventListener("mousemove", (ev) => {
    const c = cellOf(ev.target);
    if (c) showTip(c); else tip.hide();
  }, { signal });
  gridSvg.addEventListener("mouseleave", () => tip.hide(), { signal });
  gridSvg.addEventListener("click", (ev) => {
    const c = cellOf(ev.target);
    if (c) { cursor = c; pick(c, ev.shiftKey); }
  }, { signal });
  // Shift-click overlays heads here; in a notebook it would also extend the cell selection.
  gridSvg.addEventListener("mousedown", (ev) => { if (ev.shiftKey) ev.stopPropagation(); }, { signal });
  gridSvg.addEventListener("keydown", (ev) => {
    const L = model.get("n_layers"), H = model.get("n_heads");
    const cur: Head = cursor ?? model.get("selected") ?? [0, 0];
    if (ev.key === "Enter" || ev.key === " ") { pick(cur, ev.shiftKey); ev.preventDefault(); ev.stopPropagation(); return; }
    if (ev.key === "Escape") { tip.hide(); return; }
    const next = gridMove(cur, ev.key, L, H);
    if (next === cur) return;
    ev.preventDefault();
    ev.stopPropagation();   // keep the notebook from moving between cells
    cursor = next;
    drawCursor();
    showTip(next);
  }, { signal });
  gridSvg.addEventListener("focus", () => { focused = true; cursor = cursor ?? model.get("selected") ?? [0, 0]; drawCursor(); }, { signal });
  gridSvg.addEventListener("blur", () => { focused = false; tip.hide(); drawCursor(); }, { signal });
  roleSel.addEventListener("change", () => { model.set("role", roleSel.value); model.save_changes(); }, { signal });

  for (const t of TRAITS)
    model.on(`change:${t}`, draw);
  draw();
  return () => {
    for (const t of TRAITS)
      model.off(`change:${t}`, draw);
  };
}

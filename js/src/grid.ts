// HeadGrid: layers x heads heatmap of one role's scores, with significance dots, selection,
// catalogue highlight, tooltip, legend and keyboard navigation.

import { decodePacked } from "./codec";
import { Tooltip, clear, exportButtons, html, svg } from "./dom";
import { gridMove } from "./layout";
import { contrastColor, extent, fmt, fmtP, normalizer, rgbToHex, viridis } from "./scales";
import { headKey, type AnyModel, type Head } from "./protocol";

export interface GridOptions {
  /** Called on click / Enter; default sets `selected`. */
  onPick?: (head: Head, additive: boolean) => void;
}

export interface RoleStats {
  score: Float32Array; ci_low?: Float32Array; ci_high?: Float32Array;
  p?: Float32Array; q?: Float32Array; sig?: Float32Array;
}

/** Slice the [R, F, L, H] block into named [L*H] arrays for role index r. */
export function roleStats(all: Float32Array, shape: number[], fields: string[], r: number): RoleStats {
  const [, F, L, H] = shape;
  const n = L * H;
  const out: Record<string, Float32Array> = {};
  fields.forEach((f, i) => { out[f] = all.subarray((r * F + i) * n, (r * F + i + 1) * n); });
  return out as unknown as RoleStats;
}

/** Size of one grid cell in px for H heads. */
export function gridCellSize(H: number): number {
  return Math.max(10, Math.min(28, Math.floor(520 / Math.max(1, H))));
}

const TRAITS = ["role", "roles", "grid", "fields", "selected", "highlight", "highlight_label", "matches", "role_matches",
  "n_layers", "n_heads", "alpha", "has_stats", "pending", "notice"];

export function mountGrid(model: AnyModel, host: HTMLElement, signal: AbortSignal, opts: GridOptions = {}): () => void {
  const root = html("div", "headlab-grid");
  host.appendChild(root);
  const bar = html("div", "headlab-bar");
  const roleLabel = html("label", "headlab-label", "Role ");
  const roleSel = html("select", "headlab-role", undefined, { "aria-label": "Role" });
  roleLabel.appendChild(roleSel);
  const gridSvg = svg("svg", { class: "headlab-grid-svg", tabindex: 0, role: "grid" });
  const legend = html("div", "headlab-legend");
  const status = html("div", "headlab-status", "", { "aria-live": "polite" });
  const progress = html("div", "headlab-progress-row");
  const progressBar = html("progress", "headlab-progress");
  const progressText = html("span", "headlab-muted");
  progress.append(progressBar, progressText);
  const notice = html("div", "headlab-notice");
  bar.append(roleLabel, exportButtons(() => gridSvg, "headlab-grid", root));
  root.append(bar, progress, gridSvg, legend, status, notice);
  const tip = new Tooltip(root);
  let cursor: Head | null = null;
  let focused = false;
  let decoded: { key: unknown; data: Float32Array } | null = null;

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

  function currentRole(): number {
    const roles = model.get("roles") ?? [];
    const i = roles.indexOf(model.get("role"));
    return i >= 0 ? i : 0;
  }

  function tooltipLines(l: number, h: number, st: RoleStats | null): string[] {
    const i = l * model.get("n_heads") + h;
    const roles = model.get("roles") ?? [];
    const lines = [`${headKey(l, h)} · ${roles[currentRole()] ?? ""}`];
    if (st) {
      let s = `score ${fmt(st.score[i])}`;
      if (st.ci_low && Number.isFinite(st.ci_low[i])) s += `  CI [${fmt(st.ci_low[i])}, ${fmt(st.ci_high?.[i])}]`;
      lines.push(s);
      if (model.get("has_stats")) {
        const sig = st.sig && st.sig[i] > 0;
        lines.push(`p ${fmtP(st.p?.[i])}  q ${fmtP(st.q?.[i])}${sig ? `  significant (q < ${model.get("alpha")})` : ""}`);
      }
    }
    const m = model.get("matches")?.[headKey(l, h)];
    lines.push(m && m.length ? `published as: ${m.join(", ")}` : "catalogue: no published role for this head");
    const fits = model.get("role_matches")?.[roles[currentRole()]]?.[headKey(l, h)];
    if (fits?.length) lines.push(`consistent with: ${fits.join(", ")}`);
    return lines;
  }

  function draw() {
    const L = model.get("n_layers"), H = model.get("n_heads");
    const roles = model.get("roles") ?? [];
    // role selector
    const pending = new Set(model.get("pending") ?? []);
    if (roleSel.options.length !== roles.length || roles.some((r, i) => roleSel.options[i].value !== r)) {
      clear(roleSel);
      for (const r of roles) { const o = html("option", "", r); o.value = r; roleSel.appendChild(o); }
    }
    roles.forEach((r, i) => { roleSel.options[i].textContent = pending.has(r) ? `${r} (scoring…)` : r; });
    roleSel.value = roles[currentRole()] ?? "";
    roleLabel.hidden = roles.length === 0;
    root.dataset.pending = String(pending.size);
    progress.hidden = pending.size === 0;
    progressBar.max = Math.max(1, roles.length);
    progressBar.value = roles.length - pending.size;
    progressText.textContent = pending.size ? ` scoring roles in the background: ${roles.length - pending.size} of ${roles.length} ready` : "";
    notice.textContent = model.get("notice") ?? "";
    notice.hidden = !notice.textContent;

    const d = data();
    const st = d ? roleStats(d.all, d.shape, model.get("fields"), currentRole()) : null;
    const [lo, hi] = st ? extent(st.score) : [0, 1];
    const norm = normalizer(lo, hi);
    const c = gridCellSize(H), left = 34, top = 22;
    const W = left + H * c + 2, Ht = top + L * c + 2;
    clear(gridSvg);
    gridSvg.setAttribute("width", String(W));
    gridSvg.setAttribute("height", String(Ht));
    gridSvg.setAttribute("viewBox", `0 0 ${W} ${Ht}`);
    gridSvg.setAttribute("aria-label", `${L} layers by ${H} heads, role ${roles[currentRole()] ?? "none"}`);
    const axisStep = H > 16 ? 4 : 1;
    for (let h = 0; h < H; h += axisStep)
      gridSvg.appendChild(svg("text", { class: "headlab-axis", x: left + h * c + c / 2, y: top - 7, "text-anchor": "middle" }, String(h)));
    for (let l = 0; l < L; l++)
      gridSvg.appendChild(svg("text", { class: "headlab-axis", x: left - 6, y: top + l * c + c / 2 + 4, "text-anchor": "end" }, `L${l}`));
    gridSvg.appendChild(svg("text", { class: "headlab-axis headlab-axis-title", x: left - 6, y: top - 7, "text-anchor": "end" }, "head"));

    const cells = svg("g", { class: "headlab-cells" });
    const marks = svg("g", { class: "headlab-marks" });
    for (let l = 0; l < L; l++) {
      for (let h = 0; h < H; h++) {
        const i = l * H + h;
        const v = st ? st.score[i] : NaN;
        const col = Number.isFinite(v) ? viridis(norm(v)) : null;
        const x = left + h * c, y = top + l * c;
        const rect = svg("rect", {
          class: "headlab-cell" + (col ? "" : " is-missing"), x, y, width: c - 1, height: c - 1,
          "data-layer": l, "data-head": h, fill: col ? rgbToHex(col) : "none",
        });
        cells.appendChild(rect);
        if (st?.sig && st.sig[i] > 0 && col) {
          marks.appendChild(svg("circle", {
            class: "headlab-sig", cx: x + (c - 1) / 2, cy: y + (c - 1) / 2, r: Math.max(2, c * 0.16),
            fill: contrastColor(col), "data-layer": l, "data-head": h,
          }));
        }
      }
    }
    gridSvg.append(cells, marks);
    for (const [l, h] of model.get("highlight") ?? []) {
      if (l < L && h < H)
        gridSvg.appendChild(svg("rect", { class: "headlab-hl", x: left + h * c + 1.5, y: top + l * c + 1.5, width: c - 4, height: c - 4, "data-layer": l, "data-head": h }));
    }
    const sel = model.get("selected");
    if (sel) gridSvg.appendChild(svg("rect", { class: "headlab-sel", x: left + sel[1] * c - 1, y: top + sel[0] * c - 1, width: c + 1, height: c + 1, "data-layer": sel[0], "data-head": sel[1] }));
    drawCursor();

    drawLegend(lo, hi, st !== null);
    const hl = model.get("highlight") ?? [];
    status.textContent = (sel ? `Selected ${headKey(sel[0], sel[1])}. ` : "Click a head to select it. ") +
      (hl.length ? `${hl.length} head(s) outlined: ${model.get("highlight_label") || "highlight"}.` : "") +
      (pending.has(roles[currentRole()]) ? ` Role ${roles[currentRole()]} is still being scored.` : "");
  }

  /** The keyboard cursor is a separate overlay: redrawing cells under a click would eat it. */
  function drawCursor() {
    gridSvg.querySelector(".headlab-cursor")?.remove();
    if (!cursor || !focused) return;
    const c = gridCellSize(model.get("n_heads"));
    gridSvg.appendChild(svg("rect", { class: "headlab-cursor", x: 34 + cursor[1] * c, y: 22 + cursor[0] * c, width: c - 1, height: c - 1 }));
  }

  function drawLegend(lo: number, hi: number, hasData: boolean) {
    clear(legend);
    if (!hasData) { legend.appendChild(html("span", "", "no scores")); return; }
    const w = 140, h = 10;
    const s = svg("svg", { width: w + 70, height: h + 16, class: "headlab-legend-svg" });
    const n = 28;
    for (let i = 0; i < n; i++)
      s.appendChild(svg("rect", { x: i * (w / n), y: 0, width: w / n + 0.5, height: h, fill: rgbToHex(viridis(i / (n - 1))) }));
    s.appendChild(svg("text", { class: "headlab-axis", x: 0, y: h + 12 }, fmt(lo)));
    s.appendChild(svg("text", { class: "headlab-axis", x: w, y: h + 12, "text-anchor": "end" }, fmt(hi)));
    legend.appendChild(html("span", "headlab-legend-title", "score"));
    legend.appendChild(s);
    if (model.get("has_stats")) {
      const k = svg("svg", { width: 14, height: 14, class: "headlab-legend-svg" });
      k.appendChild(svg("rect", { x: 0, y: 0, width: 14, height: 14, fill: rgbToHex(viridis(0.3)) }));
      k.appendChild(svg("circle", { cx: 7, cy: 7, r: 3, fill: "#ffffff" }));
      legend.append(k, html("span", "", `significant (q < ${model.get("alpha")})`));
    } else legend.appendChild(html("span", "headlab-muted", "scores on this text only: no significance test"));
  }

  // ---- interaction ----
  const cellOf = (t: EventTarget | null): Head | null => {
    const e = t as Element | null;
    if (!e || !e.getAttribute) return null;
    const l = e.getAttribute("data-layer"), h = e.getAttribute("data-head");
    return l === null || h === null ? null : [Number(l), Number(h)];
  };
  const stNow = () => { const d = data(); return d ? roleStats(d.all, d.shape, model.get("fields"), currentRole()) : null; };
  gridSvg.addEventListener("mousemove", (ev) => {
    const c = cellOf(ev.target);
    if (c) tip.show(tooltipLines(c[0], c[1], stNow()), ev.clientX, ev.clientY); else tip.hide();
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
    const r = gridSvg.getBoundingClientRect(), c = gridCellSize(H);
    tip.show(tooltipLines(next[0], next[1], stNow()), r.left + 34 + next[1] * c + c, r.top + 22 + next[0] * c);
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

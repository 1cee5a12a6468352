// Explorer: HeadGrid + AttentionView + catalogue card on one model, linked both ways.

import { entryCard } from "./catalog";
import { decodePacked } from "./codec";
import { clear, html } from "./dom";
import { mountAttention } from "./attention";
import { mountGrid } from "./grid";
import { toggleHead } from "./layout";
import { PatternStore } from "./patterns";
import { ciText, scoreName } from "./explain";
import { fmt } from "./scales";
import { headKey, type AnyModel, type CatalogEntry, type Head } from "./protocol";

export interface RoleRank { role: string; score: number; rank: number; of: number; sig: boolean; ci_low: number; ci_high: number; n: number }

/**
 * For one head: each role's score, its rank among all heads (1 = highest) and significance,
 * ordered by effect size (the score, largest first), never by p or q: with hundreds of samples
 * almost every q is tiny, so q says whether an effect is there, not how large it is.
 */
export function headRoleRanks(all: Float32Array, shape: number[], fields: string[], roles: string[], l: number, h: number): RoleRank[] {
  const [R, F, L, H] = shape;
  const n = L * H, i = l * H + h;
  const at = (r: number, f: string) => { const fi = fields.indexOf(f); return fi < 0 ? NaN : all[(r * F + fi) * n + i]; };
  const fi = fields.indexOf("score");
  const out: RoleRank[] = [];
  for (let r = 0; r < R; r++) {
    const base = (r * F + fi) * n;
    const v = all[base + i];
    if (!Number.isFinite(v)) continue;
    let rank = 1, of = 0;
    for (let j = 0; j < n; j++) { const w = all[base + j]; if (Number.isFinite(w)) { of++; if (w > v) rank++; } }
    out.push({ role: roles[r] ?? String(r), score: v, rank, of, sig: at(r, "sig") > 0, ci_low: at(r, "ci_low"), ci_high: at(r, "ci_high"), n: at(r, "n") });
  }
  return out.sort((a, b) => b.score - a.score || Number(b.sig) - Number(a.sig) || a.rank - b.rank);
}

/** One line of the head card: "local 0.42 [0.38, 0.46] ● significant · rank 1 of 72". */
export function rankLine(r: RoleRank, hasStats: boolean): string {
  const ci = hasStats ? ` ${ciText(r.ci_low, r.ci_high, r.n)}` : "";
  return `${r.role} ${fmt(r.score)}${ci}${r.sig ? " ● significant" : ""} · rank ${r.rank} of ${r.of} heads`;
}

/** Every entry the picker offers: the index ([id, name, stage]) plus any synced entry it lacks. */
export function catalogIndex(entries: CatalogEntry[], index: [string, string, string][]): [string, string, string][] {
  const out = [...index];
  const seen = new Set(index.map(([id]) => id));
  for (const e of entries) if (!seen.has(e.id)) out.push([e.id, e.name || e.id, e.stage ?? ""]);
  return out;
}

/** Catalogue entries whose detector uses one of the roles. */
export function entriesForRoles(entries: CatalogEntry[], roles: string[]): CatalogEntry[] {
  const set = new Set(roles);
  return entries.filter((e) => (e.detector ?? []).some((r) => set.has(r)));
}

export function mountExplorer(model: AnyModel, host: HTMLElement, signal: AbortSignal, store: PatternStore): () => void {
  const root = html("div", "headlab-explorer");
  host.appendChild(root);
  const top = html("div", "headlab-ex-top");
  const gridBox = html("div", "headlab-panel");
  const side = html("div", "headlab-panel headlab-ex-side");
  top.append(gridBox, side);
  const attBox = html("div", "headlab-panel");
  root.append(top, attBox);

  const offGrid = mountGrid(model, gridBox, signal, {
    onPick: (h: Head, additive: boolean) => {
      const heads = additive ? toggleHead(model.get("heads") ?? [], h) : [h];
      model.set("selected", h);
      model.set("heads", heads);
      model.save_changes();
    },
  });
  const offAtt = mountAttention(model, attBox, signal, store);

  const pickRow = html("div", "headlab-bar");
  const entrySel = html("select", "headlab-entry", undefined, { "aria-label": "Catalogue type" });
  const pickLabel = html("label", "headlab-label", "Catalogue type ");
  pickLabel.appendChild(entrySel);
  pickRow.appendChild(pickLabel);
  const headInfo = html("div", "headlab-head-info");
  const cardBox = html("div", "headlab-card-box");
  side.append(pickRow, headInfo, cardBox);

  // entries fetched from the kernel on demand (the view syncs only those that concern its model)
  const fetched = new Map<string, CatalogEntry | string>();

  function drawSide() {
    const entries = model.get("catalog") ?? [];
    const index = catalogIndex(entries, model.get("catalog_index") ?? []);
    if (entrySel.options.length !== index.length + 1) {
      clear(entrySel);
      const none = html("option", "", "— none —"); none.value = ""; entrySel.appendChild(none);
      for (const [id, name] of index) { const o = html("option", "", name || id); o.value = id; entrySel.appendChild(o); }
    }
    entrySel.value = model.get("entry") ?? "";
    pickLabel.hidden = index.length === 0;

    clear(headInfo);
    const sel = model.get("selected");
    if (sel) {
      const [l, h] = sel;
      headInfo.appendChild(html("div", "headlab-card-name", `Head ${headKey(l, h)}`));
      const known = model.get("matches")?.[headKey(l, h)] ?? [];
      headInfo.appendChild(html("div", "", known.length ? `Published as: ${known.join(", ")}` : "No published role for this head in the catalogue."));
      const fits = model.get("role_matches")?.[model.get("role")]?.[headKey(l, h)];
      if (fits?.length) headInfo.appendChild(html("div", "", `As ${model.get("role")}: consistent with ${fits.join(", ")}`));
      const g = model.get("grid");
      if (g) {
        const hasStats = !!model.get("has_stats");
        const all = headRoleRanks(decodePacked(g), g.shape, model.get("fields"), model.get("roles") ?? [], l, h);
        const ranks = all.slice(0, 5);
        const ul = html("ul", "headlab-list headlab-role-ranks");
        for (const r of ranks) ul.appendChild(html("li", r.sig ? "is-sig" : "", rankLine(r, hasStats), { "data-role": r.role }));
        const name = scoreName(model.get("score_info")?.kinds?.[ranks[0]?.role ?? ""], model.get("score_info")?.method);
        headInfo.append(
          html("div", "headlab-sub", hasStats ? `Roles by effect size (${name}), largest first` : `Roles on this text by ${name}, largest first`),
          html("div", "headlab-muted headlab-rank-note", hasStats
            ? "Ranked by the score, not by p or q: with many samples almost every q is tiny, so q says whether an effect is there, not how large it is."
            : "One text: no test; the scores are this text's."),
          ul);
        if (all.length > ranks.length) headInfo.appendChild(html("div", "headlab-muted", `… ${all.length - ranks.length} more role(s) with lower scores`));
        const strong = ranks.filter((r) => r.sig || r.rank <= 3).map((r) => r.role);
        const rel = entriesForRoles(entries, strong).slice(0, 6);
        if (rel.length) {
          const box = html("div", "headlab-related");
          box.appendChild(html("span", "headlab-muted", "Related types: "));
          for (const e of rel) {
            const b = html("button", "headlab-btn headlab-link", e.name || e.id, { type: "button", "data-entry": e.id });
            b.addEventListener("click", () => pickEntry(e.id));
            box.appendChild(b);
          }
          headInfo.appendChild(box);
        }
      }
    } else headInfo.appendChild(html("div", "headlab-muted", "Click a head in the grid."));

    clear(cardBox);
    const id = model.get("entry");
    const got = fetched.get(id);
    const cur = entries.find((e) => e.id === id) ?? (typeof got === "object" ? got : undefined);
    if (cur) {
      const n = (model.get("catalog_heads")?.[cur.id] ?? []).length;
      cardBox.appendChild(html("div", "headlab-muted", n ? `${n} head(s) outlined in the grid` : "no head of this model linked to this type"));
      cardBox.appendChild(entryCard(cur, true));
    } else if (id && typeof got === "string") {
      cardBox.appendChild(html("div", "headlab-error", `Entry not available: ${got}`));
    } else if (id) {
      cardBox.appendChild(html("div", "headlab-muted", "Loading the entry…"));
      store.entry(id).then((e) => { fetched.set(id, e); }, (err: Error) => { fetched.set(id, err.message); }).finally(() => drawSide());
    }
  }

  function pickEntry(id: string) {
    const name = catalogIndex(model.get("catalog") ?? [], model.get("catalog_index") ?? []).find(([x]) => x === id)?.[1];
    const heads = (model.get("catalog_heads")?.[id] ?? []).map(([l, h]) => [l, h] as Head);
    model.set("entry", id);
    model.set("highlight", heads);
    model.set("highlight_label", id ? name || id : "");
    model.save_changes();
  }
  entrySel.addEventListener("change", () => pickEntry(entrySel.value), { signal });
  const traits = ["catalog", "catalog_index", "catalog_heads", "entry", "selected", "matches", "grid", "role", "score_info"];
  for (const t of traits) model.on(`change:${t}`, drawSide);
  drawSide();
  return () => { offGrid(); offAtt(); for (const t of traits) model.off(`change:${t}`, drawSide); };
}

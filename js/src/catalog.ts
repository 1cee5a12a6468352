// Catalogue card (one entry) and CatalogBrowser (search, stage filter, details).

import { clear, html } from "./dom";
import { filterEntries, stagesOf } from "./layout";
import { headKey, type AnyModel, type CatalogEntry } from "./protocol";

/** Only http(s) links become clickable; anything else stays text. */
export function safeUrl(u: unknown): string | null {
  if (typeof u !== "string") return null;
  try {
    const url = new URL(u);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch { return null; }
}

export function paperLabel(p: NonNullable<CatalogEntry["papers"]>[number]): string {
  const bits = [p.authors, p.year ? `(${p.year})` : "", p.title].filter(Boolean);
  return bits.join(" ") || p.id || "paper";
}

/** The details of one catalogue entry, built from text nodes only. `ofThisModel`: the entry's
 * known instances were narrowed to the model on display (the Explorer's catalogue), so every
 * one of them is marked as this model's. */
export function entryCard(e: CatalogEntry, ofThisModel = false): HTMLElement {
  const card = html("div", "headlab-card", undefined, { "data-entry": e.id });
  const head = html("div", "headlab-card-head");
  head.append(html("span", "headlab-card-name", e.name || e.id));
  if (e.stage) head.append(html("span", "headlab-badge", e.stage));
  card.appendChild(head);
  if (e.aliases?.length) card.appendChild(html("div", "headlab-muted", `also: ${e.aliases.join(", ")}`));
  if (e.definition) card.appendChild(html("p", "headlab-def", e.definition));
  if (e.detector?.length) card.appendChild(html("div", "", `detected by roles: ${e.detector.join(", ")}`));
  if (e.papers?.length) {
    card.appendChild(html("div", "headlab-sub", "Papers"));
    const ul = html("ul", "headlab-list");
    for (const p of e.papers) {
      const li = html("li");
      const url = safeUrl(p.url);
      if (url) {
        const a = html("a", "", paperLabel(p), { target: "_blank", rel: "noopener noreferrer" });
        a.href = url;
        li.appendChild(a);
      } else li.textContent = paperLabel(p);
      ul.appendChild(li);
    }
    card.appendChild(ul);
  }
  const inst = e.known_instances ?? [];
  if (inst.length) {
    card.appendChild(html("div", "headlab-sub", "Known instances"));
    const ul = html("ul", "headlab-list");
    for (const k of inst.slice(0, 12)) {
      const where = k.layer !== undefined ? ` ${k.head !== undefined ? headKey(k.layer, k.head) : `L${k.layer}`}` : "";
      ul.appendChild(html("li", ofThisModel ? "is-mine" : "", `${k.model ?? "?"}${where}${k.note ? ` – ${k.note}` : ""}`));
    }
    if (inst.length > 12) ul.appendChild(html("li", "headlab-muted", `… ${inst.length - 12} more`));
    card.appendChild(ul);
  }
  return card;
}

export function mountCatalogBrowser(model: AnyModel, host: HTMLElement, signal: AbortSignal): () => void {
  const root = html("div", "headlab-catalog");
  host.appendChild(root);
  const bar = html("div", "headlab-bar");
  const search = html("input", "headlab-search", undefined, { type: "search", placeholder: "search head types…", "aria-label": "Search the catalogue" });
  const stageSel = html("select", "headlab-stage", undefined, { "aria-label": "Stage" });
  const count = html("span", "headlab-muted");
  bar.append(search, stageSel, count);
  const cols = html("div", "headlab-cat-cols");
  const list = html("ul", "headlab-cat-list", undefined, { role: "listbox", "aria-label": "Catalogue entries" });
  const details = html("div", "headlab-cat-details");
  cols.append(list, details);
  root.append(bar, cols);

  function draw() {
    const entries = model.get("entries") ?? [];
    const stages = stagesOf(entries);
    if (stageSel.options.length !== stages.length + 1) {
      clear(stageSel);
      const all = html("option", "", "all stages"); all.value = ""; stageSel.appendChild(all);
      for (const s of stages) { const o = html("option", "", s); o.value = s; stageSel.appendChild(o); }
    }
    stageSel.value = model.get("stage") ?? "";
    if (search.value !== (model.get("query") ?? "")) search.value = model.get("query") ?? "";
    const shown = filterEntries(entries, model.get("query") ?? "", model.get("stage") ?? "");
    count.textContent = `${shown.length} of ${entries.length}`;
    clear(list);
    const cur = model.get("entry");
    for (const e of shown) {
      const li = html("li", "headlab-cat-item" + (e.id === cur ? " is-selected" : ""), undefined, { role: "option", tabindex: "0", "data-entry": e.id, "aria-selected": String(e.id === cur) });
      li.append(html("span", "headlab-card-name", e.name || e.id));
      if (e.stage) li.append(html("span", "headlab-badge", e.stage));
      const choose = () => { model.set("entry", e.id); model.save_changes(); };
      li.addEventListener("click", choose);
      li.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); choose(); } });
      list.appendChild(li);
    }
    clear(details);
    const sel = entries.find((e) => e.id === cur);
    details.appendChild(sel ? entryCard(sel) : html("div", "headlab-muted", shown.length ? "Choose an entry." : "No entry matches."));
  }
  search.addEventListener("input", () => { model.set("query", search.value); model.save_changes(); }, { signal });
  stageSel.addEventListener("change", () => { model.set("stage", stageSel.value); model.save_changes(); }, { signal });
  const traits = ["entries", "query", "stage", "entry"];
  for (const t of traits) model.on(`change:${t}`, draw);
  draw();
  return () => { for (const t of traits) model.off(`change:${t}`, draw); };
}

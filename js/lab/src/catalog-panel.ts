// Left-sidebar panel: search and read the head-type catalogue with no kernel. The details of a
// type are js/src/catalog.ts's card (definition, papers, known instances) plus what only this
// panel shows: Chinese names, the stage's name, and the papers' BibTeX with a copy button.

import { Clipboard } from "@jupyterlab/apputils";
import { LabIcon } from "@jupyterlab/ui-components";
import { Widget } from "@lumino/widgets";

import { entryCard } from "../../src/catalog";
import { clear, html } from "../../src/dom";
import { CATALOG_PANEL_ID } from "./constants";
import { type CatalogType, bibtexOf, searchCatalog } from "./catalog-data";
import { loadCatalog } from "./catalog-load";


const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">
<g class="jp-icon3" fill="#616161"><rect x="2" y="2" width="6" height="6" rx="1"/><rect x="9" y="2" width="6" height="6" rx="1" opacity=".55"/>
<rect x="16" y="2" width="6" height="6" rx="1" opacity=".3"/><rect x="2" y="9" width="6" height="6" rx="1" opacity=".3"/>
<rect x="9" y="9" width="6" height="6" rx="1"/><rect x="16" y="9" width="6" height="6" rx="1" opacity=".55"/>
<path d="M3 21c4-5 14-5 18 0" fill="none" stroke="#616161" stroke-width="2" class="jp-icon3"/></g></svg>`;

export const headlabIcon = new LabIcon({ name: "headlab:catalogue", svgstr: ICON_SVG });

async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    Clipboard.copyToSystem(text);     // older browsers / insecure origins
  }
}

export class CatalogPanel extends Widget {
  private types: CatalogType[] = [];
  private current = "";
  private readonly search = html("input", "headlab-search", undefined, {
    type: "search", placeholder: "name, 中文名 or alias…", "aria-label": "Search head types",
  });
  private readonly stageSel = html("select", "headlab-stage", undefined, { "aria-label": "Stage" });
  private readonly count = html("div", "headlab-muted headlab-cat-count", "loading the catalogue…");
  private readonly list = html("ul", "headlab-cat-list", undefined, { role: "listbox", "aria-label": "Head types" });
  private readonly details = html("div", "headlab-cat-details");

  constructor(load: () => Promise<CatalogType[]> = loadCatalog) {
    super();
    this.load = load;
    this.id = CATALOG_PANEL_ID;
    this.title.icon = headlabIcon;
    this.title.caption = "headlab: head-type catalogue";
    this.addClass("headlab-root");
    this.addClass("headlab-catalog-panel");
    const bar = html("div", "headlab-bar");
    bar.append(this.search, this.stageSel);
    this.node.append(html("div", "headlab-title", "Head types"), bar, this.count, this.list, this.details);
    this.search.addEventListener("input", () => this.draw());
    this.stageSel.addEventListener("change", () => this.draw());
  }

  private readonly load: () => Promise<CatalogType[]>;
  private loading: Promise<void> | null = null;

  /** Fetch the data the first time the panel is shown (it is a chunk of its own). */
  ready(): Promise<void> {
    this.loading ??= this.load().then(
      (types) => { this.types = types; this.node.dataset.state = "ready"; this.fillStages(); this.draw(); },
      (e: Error) => { this.count.textContent = `The catalogue could not be loaded: ${e.message}`; this.node.dataset.state = "error"; },
    );
    return this.loading;
  }

  protected onAfterShow(): void {
    void this.ready();
  }

  /** Show `query` in the search box (the "open catalogue" command's `query` argument). */
  setQuery(query: string): void {
    this.search.value = query;
    void this.ready().then(() => this.draw());
  }

  private fillStages(): void {
    clear(this.stageSel);
    const all = html("option", "", "all stages");
    all.value = "";
    this.stageSel.appendChild(all);
    const stages = new Map<string, string>();
    for (const t of this.types) if (t.stage && !stages.has(t.stage)) stages.set(t.stage, t.stage_name ?? "");
    for (const [code, name] of [...stages].sort()) {
      const o = html("option", "", name ? `${code} – ${name}` : code);
      o.value = code;
      this.stageSel.appendChild(o);
    }
  }

  private draw(): void {
    const stage = this.stageSel.value;
    const shown = searchCatalog(this.types, this.search.value).filter((t) => !stage || t.stage === stage);
    this.count.textContent = `${shown.length} of ${this.types.length} head types`;
    clear(this.list);
    for (const t of shown) {
      const li = html("li", "headlab-cat-item" + (t.id === this.current ? " is-selected" : ""), undefined, {
        role: "option", tabindex: "0", "data-entry": t.id, "aria-selected": String(t.id === this.current),
      });
      const label = html("span", "headlab-cat-label");
      label.append(html("span", "headlab-card-name", t.name));
      if (t.zh.length) label.append(html("span", "headlab-muted headlab-zh", ` ${t.zh[0]}`));
      li.append(label);
      if (t.stage) li.append(html("span", "headlab-badge", t.stage));
      const choose = () => { this.current = t.id; this.draw(); };
      li.addEventListener("click", choose);
      li.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); choose(); } });
      this.list.appendChild(li);
    }
    this.drawDetails(shown.find((t) => t.id === this.current) ?? null, shown.length);
  }

  private drawDetails(t: CatalogType | null, nShown: number): void {
    clear(this.details);
    if (!t) {
      this.details.appendChild(html("div", "headlab-muted", nShown ? "Choose a head type." : "No head type matches."));
      return;
    }
    const card = entryCard(t);
    const extra: HTMLElement[] = [];
    if (t.zh.length) extra.push(html("div", "headlab-zh-names", `中文: ${t.zh.join("、")}`));
    if (t.stage_name) extra.push(html("div", "headlab-muted", `stage: ${t.stage} (${t.stage_name})`));
    card.querySelector(".headlab-card-head")?.after(...extra);
    this.details.appendChild(card);
    const bib = bibtexOf(t);
    if (bib) {
      const row = html("div", "headlab-bar");
      const btn = html("button", "headlab-btn headlab-copy-bibtex", "Copy BibTeX", { type: "button" });
      const status = html("span", "headlab-muted", "", { "aria-live": "polite" });
      btn.addEventListener("click", () => {
        void copyText(bib).then(() => { status.textContent = "copied"; });
      });
      row.append(html("span", "headlab-sub", "BibTeX"), btn, status);
      this.details.append(row, html("pre", "headlab-bibtex", bib));
    }
  }
}

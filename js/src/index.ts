// anywidget front-end module for every headlab view; the Python class sets `_view`.

import { mountAttention } from "./attention";
import { mountCatalogBrowser } from "./catalog";
import { html } from "./dom";
import { mountExplorer } from "./explorer";
import { mountGrid } from "./grid";
import { PatternStore } from "./patterns";
import type { AnyModel } from "./protocol";

interface RenderProps { model: AnyModel; el: HTMLElement; signal?: AbortSignal }

function render({ model, el, signal }: RenderProps): () => void {
  const ctl = new AbortController();
  const sig = signal ?? ctl.signal;
  el.classList.add("headlab-root");
  const title = model.get("title");
  if (title) el.appendChild(html("div", "headlab-title", title));
  const view = model.get("_view");
  let store: PatternStore | null = null;
  let off: () => void;
  try {
    if (view === "grid") off = mountGrid(model, el, sig);
    else if (view === "attention") { store = new PatternStore(model); off = mountAttention(model, el, sig, store); }
    else if (view === "explorer") { store = new PatternStore(model); off = mountExplorer(model, el, sig, store); }
    else if (view === "catalog") off = mountCatalogBrowser(model, el, sig);
    else { el.appendChild(html("div", "headlab-error", `unknown headlab view ${String(view)}`)); off = () => {}; }
  } catch (e) {
    el.appendChild(html("div", "headlab-error", `headlab view failed: ${(e as Error).message}`));
    off = () => {};
  }
  return () => { off(); store?.dispose(); ctl.abort(); };
}

export default { render };

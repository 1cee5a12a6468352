// A saved headlab output drawn without a kernel: the payload's state behind a static model,
// rendered by the same `render` the anywidget bundle uses (js/src/index.ts).

import { Widget } from "@lumino/widgets";

import headlabWidget from "../../src/index";
import { html } from "../../src/dom";
import { staticModel } from "../../src/static-host";
import type { AnyModel } from "../../src/protocol";
import { loadCatalog } from "./catalog-load";
import { PayloadError, decodePayload, staticReplies } from "./payload";

/** A catalogue entry from the catalogue shipped with the extension (null when absent). */
async function findEntry(id: string): Promise<unknown | null> {
  return (await loadCatalog()).find((t) => t.id === id) ?? null;
}

/** The view of one payload; `dispose()` detaches the view's listeners. */
export class StaticHeadlabView extends Widget {
  private cleanup: (() => void) | null = null;
  private readonly ctl = new AbortController();

  constructor(payload: unknown) {
    super();
    this.addClass("headlab-lab-static");
    try {
      const { state, budget, notes } = decodePayload(payload);
      const model = staticModel(state, staticReplies(budget, findEntry)) as unknown as AnyModel;
      this.cleanup = headlabWidget.render({ model, el: this.node, signal: this.ctl.signal });
      for (const n of notes) this.node.appendChild(html("div", "headlab-muted headlab-lab-note", n));
    } catch (e) {
      const why = e instanceof PayloadError ? e.message : `headlab could not draw this output: ${(e as Error).message}`;
      this.node.appendChild(html("div", "headlab-error", why));
    }
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.cleanup?.();
    this.ctl.abort();
    super.dispose();
  }
}

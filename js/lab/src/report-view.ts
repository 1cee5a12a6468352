// The report document: for each part of a report file (natural-text roles, and the probe roles
// of `detect` when present) the grid view (js/src/grid.ts, over a static model), a card with
// every role's numbers for the clicked head, and the tables of significant heads.

import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import { Widget } from "@lumino/widgets";

import { clear, html } from "../../src/dom";
import { mountGrid } from "../../src/grid";
import { staticModel } from "../../src/static-host";
import { type AnyModel, type Head, headKey } from "../../src/protocol";
import {
  ReportError, type ReportPart, gridState, headRows, isSignificant, parseReport, rowCells, significantByRole,
} from "./report-data";
import { REPORT_MIME } from "./constants";

const MAX_TABLE_ROWS = 60;

function table(headers: string[], rows: (string | HTMLElement)[][], cls: string): HTMLTableElement {
  const t = html("table", `headlab-table ${cls}`);
  const tr = html("tr");
  for (const h of headers) tr.appendChild(html("th", "", h));
  t.appendChild(html("thead")).appendChild(tr);
  const body = t.appendChild(html("tbody"));
  for (const r of rows) {
    const row = html("tr");
    for (const c of r) {
      const td = html("td");
      if (typeof c === "string") td.textContent = c; else td.appendChild(c);
      row.appendChild(td);
    }
    body.appendChild(row);
  }
  return t;
}

function summary(part: ReportPart): string {
  const bits = [
    part.model_name || "unknown model",
    `${part.n_layers} × ${part.n_heads} heads`,
    part.n_samples !== null ? `N = ${part.n_samples} samples` : "",
    part.method ? `method ${part.method}` : "",
    part.correction ? `${part.correction}, α = ${part.alpha}` : `α = ${part.alpha}`,
  ];
  return bits.filter(Boolean).join(" · ");
}

/** One part: grid + head card side by side, then the significant heads per role. */
function mountPart(part: ReportPart, host: HTMLElement, title: string, signal: AbortSignal): () => void {
  const section = html("section", "headlab-report-part");
  host.appendChild(section);
  section.append(html("div", "headlab-title", title), html("div", "headlab-muted", summary(part)));
  if (part.test) section.appendChild(html("div", "headlab-muted", `test: ${part.test}`));
  const top = html("div", "headlab-ex-top");
  const gridBox = html("div", "headlab-panel");
  const card = html("div", "headlab-panel headlab-report-card");
  top.append(gridBox, card);
  section.appendChild(top);

  const model = staticModel(gridState(part)) as unknown as AnyModel;
  const ciHeader = `${Math.round(100 * part.ci_level)}% CI`;
  function drawCard() {
    clear(card);
    const sel = model.get("selected") as Head | null;
    if (!sel) { card.appendChild(html("div", "headlab-muted", "Click a head in the grid to see every role's score for it.")); return; }
    const [l, h] = sel;
    card.dataset.head = headKey(l, h);
    card.appendChild(html("div", "headlab-card-name", `Head ${headKey(l, h)}`));
    const rows = headRows(part, l, h).map((r) => {
      const c = rowCells(r);
      return [r.role, c.score, c.ci, c.q, c.n, isSignificant(r, part.alpha) ? "●" : ""];
    });
    card.appendChild(table(["role", "score", ciHeader, "q", "n", `q < ${part.alpha}`], rows, "headlab-head-table"));
    const published = [...new Set(headRows(part, l, h).flatMap((r) => r.published))];
    if (published.length) card.appendChild(html("div", "", `Published as: ${published.join(", ")}`));
  }
  const off = mountGrid(model, gridBox, signal, {
    onPick: (head: Head) => { model.set("selected", head); drawCard(); },
  });
  drawCard();

  const sig = significantByRole(part);
  const total = sig.reduce((a, s) => a + s.rows.length, 0);
  section.appendChild(html("div", "headlab-sub", `Significant heads (${total} of ${part.rows.length} head × role tests)`));
  const tables = html("div", "headlab-report-tables");
  for (const { role, rows } of sig) {
    const box = html("details", "headlab-report-role", undefined, { "data-role": role });
    if (rows.length) box.open = true;
    box.appendChild(html("summary", "", `${role}: ${rows.length} significant`));
    if (rows.length) {
      const shown = rows.slice(0, MAX_TABLE_ROWS).map((r) => {
        const b = html("button", "headlab-btn headlab-link", headKey(r.layer, r.head), { type: "button", "data-layer": String(r.layer), "data-head": String(r.head) });
        b.addEventListener("click", () => { model.set("role", role); model.set("selected", [r.layer, r.head]); drawCard(); }, { signal });
        const c = rowCells(r);
        return [b, c.score, c.ci, c.q, c.n];
      });
      box.appendChild(table(["head", "score", ciHeader, "q", "n"], shown, "headlab-sig-table"));
      if (rows.length > MAX_TABLE_ROWS) box.appendChild(html("div", "headlab-muted", `… ${rows.length - MAX_TABLE_ROWS} more`));
    }
    tables.appendChild(box);
  }
  section.appendChild(tables);
  return off;
}

/** Renderer of application/vnd.headlab.report+json (the document viewer's content). */
export class ReportRenderer extends Widget implements IRenderMime.IRenderer {
  private cleanup: (() => void)[] = [];
  private ctl = new AbortController();

  constructor() {
    super();
    this.addClass("headlab-root");
    this.addClass("headlab-report");
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this.reset();
    const raw = model.data[this.mimeType] ?? Object.values(model.data)[0];
    try {
      const file = parseReport(raw);
      this.cleanup.push(mountPart(file.main, this.node, "Roles on natural text", this.ctl.signal));
      if (file.detect) this.cleanup.push(mountPart(file.detect, this.node, "Probe roles (detect)", this.ctl.signal));
      this.node.dataset.state = "ready";
    } catch (e) {
      const why = e instanceof ReportError ? e.message : (e as Error).message;
      this.node.appendChild(html("div", "headlab-error", `Cannot show this report: ${why}`));
      this.node.dataset.state = "error";
    }
  }

  readonly mimeType: string = REPORT_MIME;

  private reset(): void {
    for (const f of this.cleanup) f();
    this.cleanup = [];
    this.ctl.abort();
    this.ctl = new AbortController();
    clear(this.node);
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.reset();
    this.ctl.abort();
    super.dispose();
  }
}

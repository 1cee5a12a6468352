// Heat-strip: the whole text, wrapping like text, each token coloured by how much attention the
// focused token gives it ("from") or it gives the focused token ("to"). Built once per text;
// a new head or focus only recolours (8,000 spans take milliseconds).

import { Tooltip, html } from "./dom";
import { rgbToHex } from "./scales";
import { stripColours } from "./sparse";

/** What a token reads as in running text: BPE space marks dropped, WordPiece "##" joined to the previous piece. */
export function stripLabel(token: string): { text: string; joined: boolean } {
  if (token.startsWith("##") && token.length > 2) return { text: token.slice(2), joined: true };
  const t = token.replace(/^[\u0120\u2581]/, "");
  return { text: t === "" ? "·" : t, joined: false };
}

/** Tokens per block of the strip: blocks off screen are neither laid out nor painted. */
export const STRIP_CHUNK = 256;

export class HeatStrip {
  readonly el: HTMLDivElement;
  private spans: HTMLSpanElement[] = [];
  private values: Float32Array = new Float32Array(0);
  private lit: number[] = [];
  private focus = -1;

  constructor(private labels: string[], special: Set<number>, onPick: (i: number) => void, tip: Tooltip,
              describe: (i: number, w: number) => string, signal: AbortSignal) {
    this.el = html("div", "headlab-strip", undefined, { role: "list", "aria-label": "tokens coloured by attention" });
    let chunk: HTMLDivElement | null = null;
    labels.forEach((lab, i) => {
      if (i % STRIP_CHUNK === 0) { chunk = html("div", "headlab-strip-chunk"); this.el.appendChild(chunk); }
      const { text, joined } = stripLabel(lab);
      const s = html("span", "headlab-strip-tok" + (joined ? " is-joined" : "") + (special.has(i) ? " is-special" : ""), text, { "data-i": String(i), role: "listitem" });
      this.spans.push(s);
      chunk!.appendChild(s);
    });
    const indexOf = (t: EventTarget | null) => {
      const i = (t as Element | null)?.getAttribute?.("data-i");
      return i === null || i === undefined ? -1 : Number(i);
    };
    this.el.addEventListener("click", (ev) => { const i = indexOf(ev.target); if (i >= 0) onPick(i); }, { signal });
    this.el.addEventListener("mousemove", (ev) => {
      const i = indexOf(ev.target);
      if (i < 0) { tip.hide(); return; }
      tip.show([describe(i, this.values[i] ?? 0)], ev.clientX, ev.clientY);
    }, { signal });
    this.el.addEventListener("mouseleave", () => tip.hide(), { signal });
  }

  /**
   * Colour tokens by `values` ([tokens]); the focused token is outlined, not coloured. Only the
   * tokens that change are touched: a sparse row lights up a few dozen of 8,000.
   */
  colour(values: Float32Array, focus: number): void {
    this.values = values;
    let max = 0;
    for (let i = 0; i < values.length; i++) if (i !== focus && values[i] > max) max = values[i];
    for (const i of this.lit) { const s = this.spans[i]; s.style.background = ""; s.style.color = ""; }
    this.lit = [];
    for (let i = 0; i < values.length; i++) {
      if (!(values[i] > 0) || i === focus) continue;
      const { bg, fg } = stripColours(values[i], max);
      const s = this.spans[i];
      s.style.background = rgbToHex(bg);
      s.style.color = fg;
      this.lit.push(i);
    }
    if (this.focus !== focus) {
      this.spans[this.focus]?.classList.remove("is-focus");
      this.spans[focus]?.classList.add("is-focus");
      this.focus = focus;
    }
  }

  /** Scroll the strip's box so the focused token is in view. */
  reveal(focus: number): void {
    const s = this.spans[focus], box = this.el.parentElement;
    if (!s || !box) return;
    const b = box.getBoundingClientRect(), r = s.getBoundingClientRect();
    if (r.top < b.top || r.bottom > b.bottom) box.scrollTop += r.top - b.top - box.clientHeight / 2;
  }

  get length(): number { return this.labels.length; }
}

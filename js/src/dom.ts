// Small DOM helpers. Text from users, tokenizers or data files only ever goes through
// textContent (or SVG text nodes); nothing here parses HTML.

import type { TipLine } from "./explain";

const SVG_NS = "http://www.w3.org/2000/svg";

export function html<K extends keyof HTMLElementTagNameMap>(
  tag: K, cls?: string, text?: string, attrs?: Record<string, string>,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  if (attrs) for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K, attrs: Record<string, string | number> = {}, text?: string,
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

export function clear(e: Element): void {
  while (e.firstChild) e.removeChild(e.firstChild);
}


/** Where a tooltip goes, in page (client) pixels, given the box of what it explains. */
export interface Box { left: number; top: number; right: number; bottom: number }

/**
 * The tooltip's top-left corner for an anchor box: its corner sits 3 px inside the anchor's
 * bottom-right corner, so the tooltip always touches what it explains; flipped to the left when
 * it would leave the container (width `room`), and above when it would leave the container's
 * bottom. Coordinates are relative to the container's top-left (`origin`).
 */
export function tipPosition(anchor: Box, origin: { left: number; top: number }, size: { w: number; h: number },
                            room: { w: number; h: number }): { x: number; y: number } {
  const inset = 3;
  let x = anchor.right - inset - origin.left;
  if (x + size.w > room.w) x = Math.max(0, anchor.left + inset - origin.left - size.w);
  let y = anchor.bottom - inset - origin.top;
  if (room.h > 0 && y + size.h > room.h && anchor.top + inset - origin.top - size.h >= 0)
    y = anchor.top + inset - origin.top - size.h;
  return { x, y };
}

/**
 * A floating tooltip. It is positioned against its offset parent (the nearest positioned
 * ancestor: `.headlab-root` in a notebook), whatever element created it, so it appears where
 * the pointer is even when its creator sits 300 px down the view.
 */
export class Tooltip {
  el: HTMLDivElement;
  constructor(private root: HTMLElement) {
    this.el = html("div", "headlab-tooltip", undefined, { role: "tooltip" });
    this.el.hidden = true;
    root.appendChild(this.el);
  }
  private fill(lines: TipLine[]): void {
    clear(this.el);
    lines.forEach((l, i) => {
      const [text, cls] = typeof l === "string" ? [l, ""] : l;
      this.el.appendChild(html("div", i === 0 ? "headlab-tooltip-title" : cls, text));
    });
    this.el.hidden = false;
  }
  private place(anchor: Box): void {
    const parent = (this.el.offsetParent as HTMLElement | null) ?? this.root;
    const r = parent.getBoundingClientRect();
    const origin = { left: r.left - parent.scrollLeft + parent.clientLeft, top: r.top - parent.scrollTop + parent.clientTop };
    const size = { w: this.el.offsetWidth || 200, h: this.el.offsetHeight || 40 };
    const { x, y } = tipPosition(anchor, origin, size, { w: Math.max(parent.clientWidth, r.width), h: 0 });
    this.el.style.left = `${x}px`;
    this.el.style.top = `${y}px`;
  }
  /** Show `lines` beside the pointer at (clientX, clientY): the anchor is a 20 px box around it. */
  show(lines: TipLine[], clientX: number, clientY: number): void {
    this.fill(lines);
    this.place({ left: clientX - 10, top: clientY - 10, right: clientX + 10, bottom: clientY + 10 });
  }
  /** Show `lines` at the corner of the element they explain (a grid cell, a matrix cell). */
  showAt(lines: TipLine[], box: Box): void {
    this.fill(lines);
    this.place(box);
  }
  hide(): void { this.el.hidden = true; }
}

// ---- export of the current view as SVG or PNG ----

const STYLE_PROPS = [
  "fill", "fill-opacity", "stroke", "stroke-width", "stroke-opacity", "stroke-dasharray", "opacity",
  "font-family", "font-size", "font-weight", "text-anchor", "dominant-baseline", "visibility", "display",
];

/** Serialise an on-page SVG to a standalone string, inlining computed styles and the background. */
export function svgToString(src: SVGSVGElement, background?: string): string {
  const copy = src.cloneNode(true) as SVGSVGElement;
  const a = [src, ...Array.from(src.querySelectorAll("*"))];
  const b = [copy, ...Array.from(copy.querySelectorAll("*"))];
  a.forEach((node, i) => {
    const cs = getComputedStyle(node as Element);
    const style = STYLE_PROPS.map((p) => `${p}:${cs.getPropertyValue(p)}`).join(";");
    (b[i] as Element).setAttribute("style", style);
  });
  copy.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  const w = src.getAttribute("width") ?? String(src.getBoundingClientRect().width);
  const h = src.getAttribute("height") ?? String(src.getBoundingClientRect().height);
  copy.setAttribute("width", w);
  copy.setAttribute("height", h);
  if (background) {
    const bg = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    bg.setAttribute("width", "100%");
    bg.setAttribute("height", "100%");
    bg.setAttribute("fill", background);
    copy.insertBefore(bg, copy.firstChild);
  }
  return new XMLSerializer().serializeToString(copy);
}

/** Render SVG text to a PNG blob through an <img> and a canvas. */
export function svgToPng(svgText: string, width: number, height: number, scale = 2): Promise<Blob> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    const url = URL.createObjectURL(new Blob([svgText], { type: "image/svg+xml" }));
    img.onload = () => {
      const c = document.createElement("canvas");
      c.width = Math.ceil(width * scale);
      c.height = Math.ceil(height * scale);
      const ctx = c.getContext("2d");
      if (!ctx) { reject(new Error("no 2d context")); return; }
      ctx.scale(scale, scale);
      ctx.drawImage(img, 0, 0);
      URL.revokeObjectURL(url);
      c.toBlob((b) => (b ? resolve(b) : reject(new Error("PNG encoding failed"))), "image/png");
    };
    img.onerror = () => { URL.revokeObjectURL(url); reject(new Error("SVG could not be rasterised")); };
    img.src = url;
  });
}

export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.style.display = "none";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Background colour of the nearest ancestor that has one (theme-aware export). */
export function backgroundOf(e: Element): string {
  let n: Element | null = e;
  while (n) {
    const c = getComputedStyle(n).backgroundColor;
    if (c && c !== "transparent" && !/rgba\(.*,\s*0\)$/.test(c)) return c;
    n = n.parentElement;
  }
  return "#ffffff";
}

/** Buttons that download `getSvg()` as SVG or PNG. */
export function exportButtons(getSvg: () => SVGSVGElement | null, name: string, root: HTMLElement): HTMLElement {
  const box = html("span", "headlab-export");
  const mk = (label: string, kind: "svg" | "png") => {
    const b = html("button", "headlab-btn", label, { type: "button", "data-export": kind, title: `Download this view as ${label}` });
    b.addEventListener("click", async () => {
      const s = getSvg();
      if (!s) return;
      const text = svgToString(s, backgroundOf(root));
      if (kind === "svg") downloadBlob(new Blob([text], { type: "image/svg+xml" }), `${name}.svg`);
      else {
        const w = Number(s.getAttribute("width")) || s.getBoundingClientRect().width;
        const h = Number(s.getAttribute("height")) || s.getBoundingClientRect().height;
        downloadBlob(await svgToPng(text, w, h), `${name}.png`);
      }
    });
    return b;
  };
  box.append(mk("SVG", "svg"), mk("PNG", "png"));
  return box;
}

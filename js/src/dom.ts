// Small DOM helpers. Text from users, tokenizers or data files only ever goes through
// textContent (or SVG text nodes); nothing here parses HTML.

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

/** A floating tooltip inside `root` (which is position: relative). */
export class Tooltip {
  el: HTMLDivElement;
  constructor(private root: HTMLElement) {
    this.el = html("div", "headlab-tooltip", undefined, { role: "tooltip" });
    this.el.hidden = true;
    root.appendChild(this.el);
  }
  show(lines: string[], clientX: number, clientY: number): void {
    clear(this.el);
    lines.forEach((l, i) => this.el.appendChild(html("div", i === 0 ? "headlab-tooltip-title" : "", l)));
    this.el.hidden = false;
    const r = this.root.getBoundingClientRect();
    const w = this.el.offsetWidth || 200;
    let x = clientX - r.left + 14;
    if (x + w > r.width) x = Math.max(0, clientX - r.left - w - 14);
    this.el.style.left = `${x}px`;
    this.el.style.top = `${clientY - r.top + 14}px`;
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

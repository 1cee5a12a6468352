// Geometry and data shaping for the views: pure functions, no DOM.

import type { CatalogEntry, Head, Unit } from "./protocol";

export interface Edge { q: number; k: number; w: number; head: number }

export interface EdgeOptions {
  topK: number;        // strongest keys kept per query (0 = no per-row limit)
  threshold: number;   // weights below are dropped
  maxEdges?: number;   // overall cap, strongest first
}

/** Strongest edges of one [n, n] matrix (rows = queries): per-row top-k above a threshold. */
export function selectEdges(m: ArrayLike<number>, n: number, opt: EdgeOptions, head = 0): Edge[] {
  const out: Edge[] = [];
  const k = opt.topK > 0 ? Math.min(opt.topK, n) : n;
  for (let q = 0; q < n; q++) {
    const row: Edge[] = [];
    for (let j = 0; j < n; j++) {
      const w = m[q * n + j];
      if (w >= opt.threshold && w > 0) row.push({ q, k: j, w, head });
    }
    row.sort((a, b) => b.w - a.w || a.k - b.k);
    for (let i = 0; i < Math.min(k, row.length); i++) out.push(row[i]);
  }
  if (opt.maxEdges !== undefined && out.length > opt.maxEdges) {
    out.sort((a, b) => b.w - a.w || a.q - b.q || a.k - b.k);
    out.length = opt.maxEdges;
  }
  return out;
}

/** One unit per token. */
export function tokenUnits(tokens: string[]): Unit[] {
  return tokens.map((t, i) => [i, i + 1, t]);
}

/**
 * Word-level attention from token-level attention (Clark et al. 2019): attention *to* a word is
 * the sum over its pieces, attention *from* a word is the mean over its pieces.
 */
export function aggregateUnits(m: ArrayLike<number>, n: number, units: Unit[]): Float32Array {
  const u = units.length;
  // Step 1: sum columns within each key unit -> [n, u]
  const cols = new Float32Array(n * u);
  for (let q = 0; q < n; q++) {
    for (let b = 0; b < u; b++) {
      let s = 0;
      for (let j = units[b][0]; j < units[b][1]; j++) s += m[q * n + j];
      cols[q * u + b] = s;
    }
  }
  // Step 2: mean rows within each query unit -> [u, u]
  const out = new Float32Array(u * u);
  for (let a = 0; a < u; a++) {
    const [s0, s1] = units[a];
    const len = Math.max(1, s1 - s0);
    for (let b = 0; b < u; b++) {
      let s = 0;
      for (let q = s0; q < s1; q++) s += cols[q * u + b];
      out[a * u + b] = s / len;
    }
  }
  return out;
}

export interface Positions { x: number[]; width: number[]; total: number }

/** Horizontal slots for labels in reading order; width from label length, clamped. */
export function unitPositions(labels: string[], charWidth = 7, pad = 10, min = 22, max = 120): Positions {
  const x: number[] = [];
  const width: number[] = [];
  let cur = 0;
  for (const l of labels) {
    const w = Math.max(min, Math.min(max, l.length * charWidth + pad));
    x.push(cur + w / 2);
    width.push(w);
    cur += w;
  }
  return { x, width, total: cur };
}

/**
 * SVG path of an arc between x1 and x2 on a baseline y. Arcs to earlier keys go above the
 * baseline (sign -1), arcs to later keys below (sign +1); height grows with distance.
 */
export function arcPath(x1: number, x2: number, y: number, side: -1 | 1, maxHeight: number): string {
  const d = Math.abs(x2 - x1);
  const h = Math.min(maxHeight, d * 0.5 + 6);
  // Cubic with both controls at the apex height gives a round, symmetric arch.
  return `M${r1(x1)},${r1(y)} C${r1(x1)},${r1(y + side * h * 1.33)} ${r1(x2)},${r1(y + side * h * 1.33)} ${r1(x2)},${r1(y)}`;
}

/** Height reached by arcPath (for sizing the SVG). */
export function arcHeight(x1: number, x2: number, maxHeight: number): number {
  return Math.min(maxHeight, Math.abs(x2 - x1) * 0.5 + 6);
}

const r1 = (v: number) => Math.round(v * 10) / 10;

/** Stroke width and opacity of an edge of weight w in [0, 1]. */
export function edgeStyle(w: number): { width: number; opacity: number } {
  const t = Math.max(0, Math.min(1, w));
  return { width: 0.6 + 4 * t, opacity: 0.2 + 0.8 * t };
}

/** Keyboard navigation in an L x H grid: returns the new [layer, head]. */
export function gridMove(pos: Head, key: string, L: number, H: number): Head {
  let [l, h] = pos;
  switch (key) {
    case "ArrowUp": l -= 1; break;
    case "ArrowDown": l += 1; break;
    case "ArrowLeft": h -= 1; break;
    case "ArrowRight": h += 1; break;
    case "Home": h = 0; break;
    case "End": h = H - 1; break;
    case "PageUp": l = 0; break;
    case "PageDown": l = L - 1; break;
    default: return pos;
  }
  return [Math.max(0, Math.min(L - 1, l)), Math.max(0, Math.min(H - 1, h))];
}

/** Matrix cell under a pixel: [row, col] or null outside. */
export function cellAt(px: number, py: number, n: number, size: number): [number, number] | null {
  if (px < 0 || py < 0 || px >= size || py >= size || n <= 0) return null;
  const c = size / n;
  return [Math.min(n - 1, Math.floor(py / c)), Math.min(n - 1, Math.floor(px / c))];
}

/** Pixel size of one matrix cell so that n cells fit in about `target` pixels. */
export function matrixCell(n: number, target = 560, maxCell = 18): number {
  return Math.max(1, Math.min(maxCell, Math.floor(target / Math.max(1, n))));
}

/** Auto mode: arcs for short inputs, matrix for long ones. */
export function autoMode(nUnits: number): "arcs" | "matrix" {
  return nUnits <= 80 ? "arcs" : "matrix";
}

/** Case-insensitive catalogue search over name, id, aliases and definition, with a stage filter. */
export function filterEntries(entries: CatalogEntry[], query: string, stage: string): CatalogEntry[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return entries.filter((e) => {
    if (stage && (e.stage ?? "") !== stage) return false;
    if (!words.length) return true;
    const hay = [e.id, e.name, ...(e.aliases ?? []), e.definition ?? "", ...(e.detector ?? [])].join(" ").toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

/** Distinct non-empty stages, sorted. */
export function stagesOf(entries: CatalogEntry[]): string[] {
  return [...new Set(entries.map((e) => e.stage ?? "").filter(Boolean))].sort();
}

/** Toggle a head in a list (for shift-click overlay), keeping at most `max`. */
export function toggleHead(heads: Head[], h: Head, max = 8): Head[] {
  const i = heads.findIndex(([a, b]) => a === h[0] && b === h[1]);
  if (i >= 0) return heads.filter((_, j) => j !== i);
  return [...heads, h].slice(-max);
}


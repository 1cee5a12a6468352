// One head's attention as sparse rows (each query's strongest keys), decoded from the packed
// form headlab/views/sparse.py writes, and the pure helpers the long-input views draw with:
// windows, adaptive thresholds, block maxima, columns, word aggregation, heat colours.
// No DOM here.

import { bytesOf, decodeFloat16, type Bytes } from "./codec";
import type { PackedSparse, Unit } from "./protocol";
import { contrastColor, type RGB } from "./scales";

export interface Sparse {
  /** number of queries (rows) */
  n: number;
  /** number of keys (columns) */
  m: number;
  /** [n + 1] offsets of each row in keys / weights */
  start: Uint32Array;
  /** [nnz] key of each kept entry, row by row, strongest first */
  keys: Int32Array;
  /** [nnz] its weight */
  weights: Float32Array;
  /** what the kernel kept: target share of each row, cap on keys, kept share (mean, smallest) */
  mass: number;
  kMax: number;
  keptMean: number;
  keptMin: number;
  /** only the queries [first, end) are here (a long head's first reply; the rest is coming); absent: every row */
  rows?: [number, number];
}

function u16(b: Bytes): Uint16Array {
  const u8 = bytesOf(b);
  if (u8.byteOffset % 2 === 0) return new Uint16Array(u8.buffer, u8.byteOffset, u8.byteLength >> 1);
  return new Uint16Array(u8.slice().buffer);
}

function i32(b: Bytes): Int32Array {
  const u8 = bytesOf(b);
  if (u8.byteOffset % 4 === 0) return new Int32Array(u8.buffer, u8.byteOffset, u8.byteLength >> 2);
  return new Int32Array(u8.slice().buffer);
}

/** Decode a packed pattern (DataView / ArrayBuffer leaves). Throws on inconsistent sizes. */
export function decodeSparse(p: PackedSparse): Sparse {
  if (!p.counts || !p.keys || !p.weights) throw new Error("the pattern has no data (was it saved?)");
  const n = p.n;
  const counts = bytesOf(p.counts);
  if (counts.length !== n) throw new Error(`pattern of ${n} rows with ${counts.length} counts`);
  const start = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) start[i + 1] = start[i] + counts[i];
  const nnz = start[n];
  const keys = p.key_dtype === "uint16" ? Int32Array.from(u16(p.keys)) : Int32Array.from(i32(p.keys));
  if (keys.length !== nnz) throw new Error(`pattern with ${nnz} entries but ${keys.length} keys`);
  let weights: Float32Array;
  if (p.weight_dtype === "float16") weights = decodeFloat16(p.weights);
  else {
    const q = bytesOf(p.weights);
    const scale = p.scale ? decodeFloat16(p.scale) : new Float32Array(n);
    weights = new Float32Array(q.length);
    for (let r = 0; r < n; r++) {
      const s = scale[r] / 255;
      for (let j = start[r]; j < start[r + 1]; j++) weights[j] = q[j] * s;
    }
  }
  if (weights.length !== nnz) throw new Error(`pattern with ${nnz} entries but ${weights.length} weights`);
  return { n, m: n, start, keys, weights, mass: p.mass, kMax: p.k_max, keptMean: p.kept_mean, keptMin: p.kept_min };
}

/** Whether `s` holds the rows of queries [lo, hi): a whole pattern holds every row. */
export function holdsRows(s: Sparse, lo: number, hi: number): boolean {
  return !s.rows || (s.rows[0] <= lo && hi <= s.rows[1]);
}

/** A sparse pattern from a dense [n, n] matrix (every non-zero kept, rows sorted strongest first). */
export function fromDense(d: ArrayLike<number>, n: number): Sparse {
  const start = new Uint32Array(n + 1), keys: number[] = [], weights: number[] = [];
  for (let q = 0; q < n; q++) {
    const row: [number, number][] = [];
    for (let k = 0; k < n; k++) if (d[q * n + k] > 0) row.push([k, d[q * n + k]]);
    row.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    for (const [k, w] of row) { keys.push(k); weights.push(w); }
    start[q + 1] = keys.length;
  }
  return { n, m: n, start, keys: Int32Array.from(keys), weights: Float32Array.from(weights), mass: 1, kMax: n, keptMean: 1, keptMin: 1 };
}

/** The strongest kept weight. */
export function maxWeight(s: Sparse): number {
  let m = 0;
  for (let j = 0; j < s.weights.length; j++) if (s.weights[j] > m) m = s.weights[j];
  return m;
}

/** Dense row q ([m]; zeros where a key was not kept). */
export function rowOf(s: Sparse, q: number): Float32Array {
  const out = new Float32Array(s.m);
  for (let j = s.start[q]; j < s.start[q + 1]; j++) out[s.keys[j]] += s.weights[j];
  return out;
}

/** Column k ([n]): how much each query gives key k (0 where it is not among the query's kept keys). */
export function columnOf(s: Sparse, k: number): Float32Array {
  const out = new Float32Array(s.n);
  for (let q = 0; q < s.n; q++)
    for (let j = s.start[q]; j < s.start[q + 1]; j++) if (s.keys[j] === k) { out[q] += s.weights[j]; }
  return out;
}

/** Dense [n, m] matrix (small inputs only). */
export function denseOf(s: Sparse): Float32Array {
  const out = new Float32Array(s.n * s.m);
  for (let q = 0; q < s.n; q++) for (let j = s.start[q]; j < s.start[q + 1]; j++) out[q * s.m + s.keys[j]] += s.weights[j];
  return out;
}

/** Block maxima for an overview: blocks of `block` x `block` cells -> [nb, nb] (row-major). */
export function blockMax(s: Sparse, block: number): { nb: number; mb: number; data: Float32Array } {
  const b = Math.max(1, Math.floor(block));
  const nb = Math.ceil(s.n / b), mb = Math.ceil(s.m / b);
  const data = new Float32Array(nb * mb);
  for (let q = 0; q < s.n; q++) {
    const rb = Math.floor(q / b) * mb;
    for (let j = s.start[q]; j < s.start[q + 1]; j++) {
      const c = rb + Math.floor(s.keys[j] / b);
      if (s.weights[j] > data[c]) data[c] = s.weights[j];
    }
  }
  return { nb, mb, data };
}

/** The unit each token belongs to ([tokens]), from [first, end, label] units. */
export function unitIndex(units: Unit[], nTokens: number): Int32Array {
  const out = new Int32Array(nTokens).fill(-1);
  units.forEach(([a, b], u) => { for (let t = a; t < b && t < nTokens; t++) out[t] = u; });
  return out;
}

/**
 * Word-level pattern (Clark et al. 2019): attention to a unit is the sum over its pieces,
 * attention from a unit the mean over its pieces; computed on the kept entries only.
 */
export function aggregateSparse(s: Sparse, units: Unit[]): Sparse {
  const of = unitIndex(units, s.n);
  const U = units.length;
  const start = new Uint32Array(U + 1), keys: number[] = [], weights: number[] = [];
  for (let a = 0; a < U; a++) {
    const [t0, t1] = units[a];
    const len = Math.max(1, t1 - t0);
    const acc = new Map<number, number>();
    for (let q = t0; q < t1 && q < s.n; q++)
      for (let j = s.start[q]; j < s.start[q + 1]; j++) {
        const b = of[s.keys[j]];
        if (b >= 0) acc.set(b, (acc.get(b) ?? 0) + s.weights[j] / len);
      }
    const row = [...acc.entries()].sort((x, y) => y[1] - x[1] || x[0] - y[0]);
    for (const [b, w] of row) { keys.push(b); weights.push(w); }
    start[a + 1] = keys.length;
  }
  return { ...s, n: U, m: U, start, keys: Int32Array.from(keys), weights: Float32Array.from(weights) };
}

export interface SparseEdge { q: number; k: number; w: number; head: number }

/** Each query's first `topK` kept keys (0 = all kept) for queries in [lo, hi), weight >= threshold. */
export function topEdges(s: Sparse, lo: number, hi: number, topK: number, threshold: number, head = 0): SparseEdge[] {
  const out: SparseEdge[] = [];
  for (let q = Math.max(0, lo); q < Math.min(s.n, hi); q++) {
    const end = topK > 0 ? Math.min(s.start[q + 1], s.start[q] + topK) : s.start[q + 1];
    for (let j = s.start[q]; j < end; j++) {
      const w = s.weights[j];
      if (w > 0 && w >= threshold) out.push({ q, k: s.keys[j], w, head });
    }
  }
  return out;
}

/**
 * A threshold that keeps about `target` of the candidate weights: the target-th largest one
 * (0 when there are no more candidates than that). Adapts to the input: at 2,000 tokens the
 * weights are small and so is the threshold, where a fixed 0.05 would hide everything.
 */
export function autoThreshold(weights: ArrayLike<number>, target: number): number {
  const n = weights.length;
  if (n <= target || target <= 0) return 0;
  const w = Float32Array.from(weights).sort();
  return w[n - target];
}

/** [lo, hi): `width` units centred on `focus`, clamped to [0, n). */
export function windowAround(n: number, focus: number, width: number): [number, number] {
  if (n <= width) return [0, n];
  const lo = Math.max(0, Math.min(n - width, Math.round(focus - width / 2)));
  return [lo, lo + width];
}

/**
 * A token worth focusing first: the query (among the first `limit`) whose strongest edge to
 * another, non-special key is strongest.
 */
export function defaultFocus(s: Sparse, special: Set<number>, limit = s.n): number {
  let best = 0, bw = -1;
  for (let q = 0; q < Math.min(s.n, limit); q++) {
    if (special.has(q)) continue;
    for (let j = s.start[q]; j < s.start[q + 1]; j++) {
      const k = s.keys[j];
      if (k === q || special.has(k)) continue;
      if (s.weights[j] > bw) { bw = s.weights[j]; best = q; }
      break;
    }
  }
  return best;
}

// A light-to-dark blue ramp for heat-strips: the background of running text, so its light end
// is the page colour and text stays readable on the dark end (black or white, by contrast).
const HEAT: RGB[] = [[247, 251, 255], [198, 219, 239], [107, 174, 214], [33, 113, 181], [8, 48, 107]];

/** Heat colour at t in [0, 1] (clamped; NaN -> 0). */
export function heatColour(t: number): RGB {
  const x = (Number.isFinite(t) ? Math.max(0, Math.min(1, t)) : 0) * (HEAT.length - 1);
  const i = Math.min(Math.floor(x), HEAT.length - 2);
  const f = x - i, a = HEAT[i], b = HEAT[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** Heat value of a weight on the strip: sqrt of its share of the largest, so weak edges still show. */
export function heatValue(w: number, max: number): number {
  return max > 0 && w > 0 ? Math.sqrt(Math.min(1, w / max)) : 0;
}

/** Background and text colour of a strip token of weight w (strongest other token: max). */
export function stripColours(w: number, max: number): { bg: RGB; fg: string } {
  const bg = heatColour(heatValue(w, max));
  return { bg, fg: contrastColor(bg) };
}

// Sparse patterns and the pure helpers of the long-input views (no DOM needed).
import { describe, expect, it } from "vitest";
import { ARC_WINDOW, FOCUS_SEARCH, STRIP_WINDOW, arcWidth, chooseEdges, edgeMessage, resolveMode, rowsNeeded } from "../src/attention";
import { catalogIndex } from "../src/explorer";
import { PatternStore } from "../src/patterns";
import type { PackedSparse } from "../src/protocol";
import { luminance } from "../src/scales";
import {
  aggregateSparse, autoThreshold, blockMax, columnOf, decodeSparse, defaultFocus, denseOf, fromDense,
  heatColour, holdsRows, heatValue, maxWeight, rowOf, stripColours, topEdges, windowAround,
} from "../src/sparse";
import { stripLabel } from "../src/strip";

/** bytes as a DataView at an odd offset inside a larger buffer (as comm buffers may arrive) */
function view(bytes: number[]): DataView {
  const buf = new Uint8Array(bytes.length + 3);
  buf.set(bytes, 1);
  return new DataView(buf.buffer, 1, bytes.length);
}

// 3 queries: row 0 keeps keys 1 (0.5) and 0 (~0.25), row 1 key 0 (1.0), row 2 nothing
function packed(): PackedSparse {
  return {
    n: 3, key_dtype: "uint16", weight_dtype: "uint8", mass: 0.9, k_max: 2, kept_mean: 0.58, kept_min: 0,
    counts: view([2, 1, 0]),
    keys: view([1, 0, 0, 0, 0, 0]),                       // uint16 LE: 1, 0, 0
    weights: view([255, 128, 255]),
    scale: view([0x00, 0x38, 0x00, 0x3c, 0, 0]),          // float16 LE: 0.5, 1.0, 0
  };
}

describe("sparse patterns", () => {
  it("decodes packed rows from unaligned buffers", () => {
    const s = decodeSparse(packed());
    expect(Array.from(s.start)).toEqual([0, 2, 3, 3]);
    expect(Array.from(s.keys)).toEqual([1, 0, 0]);
    expect(s.weights[0]).toBeCloseTo(0.5, 6);
    expect(s.weights[1]).toBeCloseTo((128 / 255) * 0.5, 6);
    expect(s.weights[2]).toBeCloseTo(1, 6);
    expect([s.keptMean, s.kMax, s.mass]).toEqual([0.58, 2, 0.9]);
    expect(Array.from(denseOf(s))).toEqual([s.weights[1], 0.5, 0, 1, 0, 0, 0, 0, 0]);
  });
  it("decodes float16 weights and int32 keys, and refuses inconsistent data", () => {
    const p: PackedSparse = { ...packed(), key_dtype: "int32", weight_dtype: "float16", scale: null,
      keys: view([1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0]), weights: view([0x00, 0x38, 0x00, 0x34, 0x00, 0x3c]) };
    const s = decodeSparse(p);
    expect(Array.from(s.keys)).toEqual([1, 0, 2]);
    expect(Array.from(s.weights)).toEqual([0.5, 0.25, 1]);
    expect(() => decodeSparse({ ...packed(), counts: view([2, 2, 0]) })).toThrow(/entries/);
    expect(() => decodeSparse({ ...packed(), counts: null })).toThrow(/no data/);
  });
  it("reads rows, columns and the maximum", () => {
    const s = fromDense([0.1, 0.9, 0, 0.6, 0.4, 0, 0, 0.3, 0.7], 3);
    expect(Array.from(s.keys)).toEqual([1, 0, 0, 1, 2, 1]);           // strongest first in each row
    expect(Array.from(rowOf(s, 1))).toEqual([0.6000000238418579, 0.4000000059604645, 0]);
    expect(Array.from(columnOf(s, 1)).map((x) => +x.toFixed(2))).toEqual([0.9, 0.4, 0.3]);
    expect(maxWeight(s)).toBeCloseTo(0.9);
  });
  it("overviews blocks by their strongest weight, so one sharp edge survives shrinking", () => {
    const d = new Array(16).fill(0);
    d[0 * 4 + 3] = 0.9;   // query 0 -> key 3
    d[2 * 4 + 2] = 0.2;
    d[3 * 4 + 3] = 0.05;
    const b = blockMax(fromDense(d, 4), 2);
    expect([b.nb, b.mb]).toEqual([2, 2]);
    expect(Array.from(b.data).map((x) => +x.toFixed(2))).toEqual([0, 0.9, 0, 0.2]);
    expect(blockMax(fromDense(d, 4), 3).nb).toBe(2);                  // ragged last block
  });
  it("aggregates to words: sum over key pieces, mean over query pieces", () => {
    // tokens: [CLS] un ##able [SEP]; units: [CLS], unable, [SEP]
    const d = [
      1, 0, 0, 0,
      0.2, 0.3, 0.5, 0,
      0.4, 0.4, 0, 0.2,
      0, 0, 0, 1,
    ];
    const w = aggregateSparse(fromDense(d, 4), [[0, 1, "[CLS]"], [1, 3, "unable"], [3, 4, "[SEP]"]]);
    const dense = Array.from(denseOf(w)).map((x) => +x.toFixed(3));
    expect(dense).toEqual([1, 0, 0, 0.3, 0.6, 0.1, 0, 0, 1]);
    expect(w.n).toBe(3);
  });
});

describe("windows, thresholds and focus", () => {
  it("windows units around a focus, clamped to the text", () => {
    expect(windowAround(8000, 4000, 48)).toEqual([3976, 4024]);
    expect(windowAround(8000, 3, 48)).toEqual([0, 48]);
    expect(windowAround(8000, 7999, 48)).toEqual([7952, 8000]);
    expect(windowAround(30, 10, 48)).toEqual([0, 30]);
  });
  it("adapts the threshold to keep about a target number of edges", () => {
    expect(autoThreshold([0.5, 0.1, 0.3, 0.2], 2)).toBeCloseTo(0.3);
    expect(autoThreshold([0.5, 0.1], 5)).toBe(0);
    // at 2,000 tokens weights are small: a fixed 0.05 hides everything, the adaptive one does not
    const w = Array.from({ length: 2000 }, (_, i) => 0.001 + (i % 50) * 0.0005);
    const t = autoThreshold(w, 100);
    expect(t).toBeLessThan(0.05);
    expect(w.filter((x) => x >= t).length).toBeGreaterThanOrEqual(100);
  });
  it("chooses edges and says how to see the hidden ones", () => {
    const s = fromDense([0.1, 0.9, 0, 0.6, 0.4, 0, 0, 0.3, 0.7], 3);
    expect(topEdges(s, 0, 3, 1, 0).map((e) => [e.q, e.k])).toEqual([[0, 1], [1, 0], [2, 2]]);
    expect(topEdges(s, 1, 2, 0, 0.5).map((e) => e.k)).toEqual([0]);
    const fixed = chooseEdges([s], 0, 3, 2, 0.95, 10);
    expect(fixed.edges).toEqual([]);
    expect(fixed.candidates).toBe(6);
    const msg = edgeMessage(fixed, 2);
    expect(msg).toContain("0 of 6 edge(s)");
    expect(msg).toContain("no edge reaches 0.95 (the strongest is 0.9)");
    expect(msg).toContain("press auto");
    const auto = chooseEdges([s], 0, 3, 2, null, 3);
    expect(auto.auto).toBe(true);
    expect(auto.edges.map((e) => e.w.toFixed(1))).toEqual(["0.9", "0.7", "0.6"]);
    expect(edgeMessage(auto, 2)).toContain("3 weaker edge(s) hidden: lower the threshold to see more");
    expect(edgeMessage(chooseEdges([s], 0, 3, 2, null, 10), 2)).toBe("6 of 6 edge(s) · weight ≥ 0 (auto) · top-2 keys per query");
  });
  it("picks arcs for short inputs and the heat-strip for long ones", () => {
    expect(resolveMode("auto", 80)).toBe("arcs");
    expect(resolveMode("auto", 81)).toBe("strip");
    expect(resolveMode("matrix", 10)).toBe("matrix");
    expect(resolveMode(undefined, 5000)).toBe("strip");
  });
  it("knows which rows a view draws from, so a long head's first rows can be enough", () => {
    expect(arcWidth("arcs", 50)).toBe(50);
    expect(arcWidth("strip", 8000)).toBe(STRIP_WINDOW);
    expect(arcWidth("lines", 8000)).toBe(2 * ARC_WINDOW);
    expect(rowsNeeded("strip", 8000, 4000, "from")).toEqual([3976, 4024]);
    expect(rowsNeeded("lines", 8000, 7990, "from")).toEqual([8000 - 2 * ARC_WINDOW, 8000]);
    expect(rowsNeeded("arcs", 8000, 0, "to")).toEqual([0, STRIP_WINDOW]);      // arcs: the direction is the strip's
    // every row: the colours *to* the focus (a column), the matrix, a whole short text
    expect(rowsNeeded("strip", 8000, 4000, "to")).toBeNull();
    expect(rowsNeeded("matrix", 8000, 4000, "from")).toBeNull();
    expect(rowsNeeded("arcs", ARC_WINDOW, 3, "from")).toBeNull();
    // a focus the page still has to pick lies among the first FOCUS_SEARCH queries
    expect(rowsNeeded("strip", 8000, -1, "from")).toEqual([0, FOCUS_SEARCH + STRIP_WINDOW / 2]);
    expect(rowsNeeded("lines", 8000, -1, "from")).toEqual([0, FOCUS_SEARCH + ARC_WINDOW]);
    for (const mode of ["strip", "lines"] as const)      // every window around such a focus lies inside
      for (let f = 0; f < FOCUS_SEARCH; f++) {
        const [lo, hi] = windowAround(8000, f, arcWidth(mode, 8000));
        const [a, b] = rowsNeeded(mode, 8000, -1, "from")!;
        expect(a <= lo && hi <= b).toBe(true);
      }
    expect(rowsNeeded("strip", 8000, -1, "to")).toBeNull();
    const s = fromDense([0.1, 0.9, 0, 0.6, 0.4, 0, 0, 0.3, 0.7], 3);
    expect(holdsRows(s, 0, 3)).toBe(true);
    s.rows = [1, 3];
    expect([holdsRows(s, 1, 2), holdsRows(s, 1, 3), holdsRows(s, 0, 2)]).toEqual([true, true, false]);
  });
  it("focuses first on the query with the strongest edge to another ordinary token", () => {
    const s = fromDense([0, 0.95, 0.05, 0.5, 0, 0.5, 0.6, 0.3, 0.1], 3);
    expect(defaultFocus(s, new Set())).toBe(0);
    expect(defaultFocus(s, new Set([1]))).toBe(2);      // token 1 special: row 0's best ordinary edge is 0.05
    expect(defaultFocus(s, new Set([1]), 2)).toBe(0);   // among the first two queries only
  });
});

describe("heat-strip colours", () => {
  it("runs light to dark, with readable text on both ends", () => {
    expect(heatColour(0)).toEqual([247, 251, 255]);
    expect(heatColour(1)).toEqual([8, 48, 107]);
    expect(luminance(heatColour(0.9))).toBeLessThan(luminance(heatColour(0.1)));
    expect(heatColour(NaN)).toEqual(heatColour(0));
    expect(stripColours(0, 1).fg).toBe("#000000");
    expect(stripColours(1, 1).fg).toBe("#ffffff");
  });
  it("shows weak weights (square root of the share of the strongest)", () => {
    expect(heatValue(0.25, 1)).toBeCloseTo(0.5);
    expect(heatValue(2, 1)).toBe(1);
    expect(heatValue(0.1, 0)).toBe(0);
  });
  it("reads tokens as running text", () => {
    expect(stripLabel("##able")).toEqual({ text: "able", joined: true });
    expect(stripLabel("\u0120the")).toEqual({ text: "the", joined: false });
    expect(stripLabel("\u2581de")).toEqual({ text: "de", joined: false });
    expect(stripLabel("##")).toEqual({ text: "##", joined: false });
    expect(stripLabel("\u0120")).toEqual({ text: "·", joined: false });
  });
});

describe("catalogue index", () => {
  it("offers every indexed entry plus synced ones it lacks", () => {
    const idx = catalogIndex([{ id: "b", name: "B" }, { id: "c", name: "C", stage: "KR" }], [["a", "A", ""], ["b", "B", "X"]]);
    expect(idx).toEqual([["a", "A", ""], ["b", "B", "X"], ["c", "C", "KR"]]);
  });
});


/** A model whose `send` is answered by `reply` (as a kernel would, asynchronously). */
function fakeModel(state: Record<string, unknown>, reply: (msg: any) => [unknown, DataView[]] | null) {
  const listeners = new Set<(m: unknown, b: DataView[]) => void>();
  const sent: any[] = [];
  return {
    sent,
    get: (k: string) => state[k],
    set: () => {}, save_changes: () => {},
    on: (_e: string, f: any) => listeners.add(f),
    off: (_e: string, f: any) => listeners.delete(f),
    send: (msg: any) => {
      sent.push(msg);
      const r = reply(msg);
      if (r) queueMicrotask(() => listeners.forEach((f) => f(r[0], r[1])));
    },
  };
}

/** A kernel that answers a pattern request with `replies` ([meta, buffers] each), one task apart. */
function fakeKernel(replies: (m: any) => [Record<string, unknown>, DataView[]][]) {
  const listeners = new Set<(m: unknown, b: DataView[]) => void>();
  const sent: any[] = [];
  return {
    sent, get: (_k: string) => undefined, set: () => {}, save_changes: () => {},
    on: (_e: string, f: any) => listeners.add(f),
    off: (_e: string, f: any) => listeners.delete(f),
    send: (msg: any) => {
      sent.push(msg);
      replies(msg).forEach(([meta, bufs], i) => setTimeout(() => listeners.forEach((f) => f({ rid: msg.rid, ...meta }, bufs)), 5 * (i + 1)));
    },
  };
}

const META = { kind: "pattern", layer: 0, head: 0, n: 3, key_dtype: "uint16", weight_dtype: "uint8", mass: 0.9, k_max: 2, kept_mean: 0.58, kept_min: 0 };
const BUFS = () => { const p = packed(); return [p.counts, p.keys, p.weights, p.scale] as DataView[]; };
// row 1 only: key 0 (1.0); rows 0 and 2 keep nothing
const EARLY: [Record<string, unknown>, DataView[]] = [{ ...META, kept_mean: 1, kept_min: 1, rows: [1, 2] },
  [view([0, 1, 0]), view([0, 0]), view([255]), view([0, 0, 0x00, 0x3c, 0, 0])]];

describe("pattern store", () => {
  it("hands a long head's early rows to `first` and the whole head to `get`, from one request", async () => {
    const model = fakeKernel(() => [EARLY, [{ ...META, rows: [0, 3] }, BUFS()]]);
    const store = new PatternStore(model as any, 1000);
    const whole = store.get(0, 0, 1);
    const first = await store.first(0, 0);
    expect(first.rows).toEqual([1, 2]);
    expect(Array.from(first.start)).toEqual([0, 0, 1, 1]);
    expect([first.keys[0], first.weights[0], first.keptMin]).toEqual([0, 1, 1]);
    const s = await whole;
    expect(s.rows).toBeUndefined();
    expect(Array.from(s.keys)).toEqual([1, 0, 0]);
    expect((await store.first(0, 0)).rows).toBeUndefined();     // once whole, `first` gives the whole head
    expect(model.sent).toEqual([expect.objectContaining({ kind: "pattern", layer: 0, head: 0, near: 1 })]);
    store.dispose();
  });
  it("gives the whole head to `first` when no early rows come, and fails both on an error", async () => {
    const model = fakeKernel((m) => m.head === 0 ? [[{ ...META, rows: [0, 3] }, BUFS()]]
      : [EARLY, [{ kind: "error", message: "the kernel ran out of memory" }, []]]);
    const store = new PatternStore(model as any, 1000);
    expect((await store.first(0, 0)).rows).toBeUndefined();
    expect(model.sent[0].near).toBe(-1);                        // `first` alone asks without a focus
    const bad = store.get(0, 1, 2);
    expect((await store.first(0, 1)).rows).toEqual([1, 2]);
    await expect(bad).rejects.toThrow("the kernel ran out of memory");
    expect(store.has(0, 1)).toBe(false);                        // a retry asks again
    store.dispose();
  });

  it("asks the kernel once per head, decodes the sparse reply and serves entries", async () => {
    const p = packed();
    const model = fakeModel({}, (m) => m.kind === "pattern"
      ? [{ kind: "pattern", rid: m.rid, layer: m.layer, head: m.head, n: 3, key_dtype: "uint16", weight_dtype: "uint8",
          mass: 0.9, k_max: 2, kept_mean: 0.58, kept_min: 0 }, [p.counts, p.keys, p.weights, p.scale] as DataView[]]
      : m.kind === "entry" ? [{ kind: "entry", rid: m.rid, entry: { id: m.id, name: "Found" } }, []] : null);
    const store = new PatternStore(model as any, 1000);
    const s = await store.get(1, 2);
    expect(Array.from(s.keys)).toEqual([1, 0, 0]);
    await store.get(1, 2);
    expect(model.sent.filter((m) => m.kind === "pattern")).toHaveLength(1);
    expect(model.sent[0]).toMatchObject({ kind: "pattern", layer: 1, head: 2 });
    expect(store.has(1, 2)).toBe(true);
    expect((await store.entry("x")).name).toBe("Found");
    store.dispose();
  });
  it("uses saved patterns first, and says what to do without a kernel", async () => {
    const model = fakeModel({ preload: { L0H1: packed() }, _static: true }, () => null);
    const store = new PatternStore(model as any, 1000);
    expect((await store.get(0, 1)).n).toBe(3);
    await expect(store.get(0, 2)).rejects.toThrow(/L0H2 is not saved in this output; re-run the cell/);
    await expect(store.entry("y")).rejects.toThrow(/not saved in this output/);
    expect(model.sent).toEqual([]);
  });
  it("passes the kernel's error on, and allows a retry", async () => {
    let fail = true;
    const model = fakeModel({}, (m) => fail ? [{ kind: "error", rid: m.rid, message: "Head L9H0 does not exist" }, []] : null);
    const store = new PatternStore(model as any, 50);
    await expect(store.get(9, 0)).rejects.toThrow("Head L9H0 does not exist");
    fail = false;
    await expect(store.get(9, 0)).rejects.toThrow(/no reply from the kernel/);
    expect(model.sent).toHaveLength(2);
  });
});

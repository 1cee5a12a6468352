import { describe, expect, it } from "vitest";
import {
  aggregateUnits, arcHeight, arcPath, autoMode, cellAt, edgeStyle, filterEntries, gridMove,
  matrixCell, selectEdges, stagesOf, toggleHead, tokenUnits, unitPositions,
} from "../src/layout";
import type { CatalogEntry, Unit } from "../src/protocol";

const M = new Float32Array([
  0.7, 0.2, 0.1,
  0.1, 0.1, 0.8,
  0.3, 0.3, 0.4,
]);

describe("selectEdges", () => {
  it("keeps the top-k keys per query above the threshold", () => {
    const e = selectEdges(M, 3, { topK: 1, threshold: 0 });
    expect(e.map((x) => [x.q, x.k])).toEqual([[0, 0], [1, 2], [2, 2]]);
  });
  it("breaks ties by key order and drops weights under the threshold", () => {
    const e = selectEdges(M, 3, { topK: 2, threshold: 0.25 });
    expect(e.map((x) => [x.q, x.k])).toEqual([[0, 0], [1, 2], [2, 2], [2, 0]]);
  });
  it("caps the total number of edges, strongest first", () => {
    const e = selectEdges(M, 3, { topK: 0, threshold: 0, maxEdges: 2 });
    expect(e.map((x) => x.w.toFixed(1))).toEqual(["0.8", "0.7"]);
  });
  it("tags edges with the head index", () => {
    expect(selectEdges(M, 3, { topK: 1, threshold: 0 }, 4).every((x) => x.head === 4)).toBe(true);
  });
});

describe("aggregateUnits (Clark et al.)", () => {
  it("sums over key pieces and averages over query pieces", () => {
    // tokens: [CLS] un ##able [SEP]; word "unable" = tokens 1..2
    const T = 4;
    const m = new Float32Array([
      1, 0, 0, 0,
      0.1, 0.2, 0.3, 0.4,
      0.3, 0.3, 0.2, 0.2,
      0, 0, 0, 1,
    ]);
    const units: Unit[] = [[0, 1, "[CLS]"], [1, 3, "unable"], [3, 4, "[SEP]"]];
    const w = Array.from(aggregateUnits(m, T, units)).map((v) => +v.toFixed(4));
    expect(w).toEqual([
      1, 0, 0,
      0.2, 0.5, 0.3,
      0, 0, 1,
    ]);
  });
  it("keeps rows summing to one", () => {
    const units: Unit[] = [[0, 2, "a"], [2, 3, "b"]];
    const w = aggregateUnits(M, 3, units);
    expect(w[0] + w[1]).toBeCloseTo(1, 6);
    expect(w[2] + w[3]).toBeCloseTo(1, 6);
  });
  it("identity units give the matrix back", () => {
    const units = tokenUnits(["a", "b", "c"]);
    expect(Array.from(aggregateUnits(M, 3, units))).toEqual(Array.from(M));
  });
});

describe("arc geometry", () => {
  it("lays out labels left to right with clamped widths", () => {
    const p = unitPositions(["a", "abcdefghijklmnopqrstuvwxyz0123456789"], 7, 10, 22, 120);
    expect(p.width).toEqual([22, 120]);
    expect(p.x).toEqual([11, 82]);
    expect(p.total).toBe(142);
  });
  it("draws arcs above for earlier keys and below for later keys", () => {
    const up = arcPath(100, 20, 50, -1, 40);
    const down = arcPath(20, 100, 50, 1, 40);
    expect(up.startsWith("M100,50 C100,")).toBe(true);
    const cy = (d: string) => Number(d.split(" ")[1].split(",")[1]);
    expect(cy(up)).toBeLessThan(50);
    expect(cy(down)).toBeGreaterThan(50);
  });
  it("arc height grows with distance up to a cap", () => {
    expect(arcHeight(0, 10, 100)).toBe(11);
    expect(arcHeight(0, 1000, 100)).toBe(100);
  });
  it("edge style grows with weight", () => {
    expect(edgeStyle(0).width).toBeLessThan(edgeStyle(1).width);
    expect(edgeStyle(2)).toEqual(edgeStyle(1));
  });
});

describe("grid and matrix helpers", () => {
  it("moves a keyboard cursor and clamps at the edges", () => {
    expect(gridMove([0, 0], "ArrowDown", 6, 12)).toEqual([1, 0]);
    expect(gridMove([0, 0], "ArrowUp", 6, 12)).toEqual([0, 0]);
    expect(gridMove([2, 11], "ArrowRight", 6, 12)).toEqual([2, 11]);
    expect(gridMove([2, 3], "End", 6, 12)).toEqual([2, 11]);
    expect(gridMove([2, 3], "PageDown", 6, 12)).toEqual([5, 3]);
    const p: [number, number] = [1, 1];
    expect(gridMove(p, "x", 6, 12)).toBe(p);
  });
  it("maps pixels to matrix cells", () => {
    expect(cellAt(0, 0, 10, 100)).toEqual([0, 0]);
    expect(cellAt(99, 15, 10, 100)).toEqual([1, 9]);
    expect(cellAt(100, 5, 10, 100)).toBeNull();
    expect(cellAt(-1, 5, 10, 100)).toBeNull();
  });
  it("sizes matrix cells and picks a mode by length", () => {
    expect(matrixCell(10)).toBe(18);
    expect(matrixCell(512)).toBe(1);
    expect(matrixCell(100)).toBe(5);
    expect(autoMode(30)).toBe("arcs");
    expect(autoMode(512)).toBe("matrix");
  });
  it("toggles heads in an overlay list with a maximum", () => {
    expect(toggleHead([[0, 1]], [2, 3])).toEqual([[0, 1], [2, 3]]);
    expect(toggleHead([[0, 1], [2, 3]], [0, 1])).toEqual([[2, 3]]);
    expect(toggleHead([[0, 0], [0, 1]], [0, 2], 2)).toEqual([[0, 1], [0, 2]]);
  });
});

describe("catalogue filtering", () => {
  const entries: CatalogEntry[] = [
    { id: "induction_head", name: "Induction Head", stage: "ICI", aliases: ["copying head"], definition: "Attends to the token after a previous occurrence." },
    { id: "previous_token_head", name: "Previous Token Head", stage: "KR", detector: ["previous"] },
    { id: "retrieval_head", name: "Retrieval Head", stage: "ICI" },
  ];
  it("matches all words across name, aliases, definition and detector roles", () => {
    expect(filterEntries(entries, "copying", "").map((e) => e.id)).toEqual(["induction_head"]);
    expect(filterEntries(entries, "HEAD previous", "").map((e) => e.id)).toEqual(["induction_head", "previous_token_head"]);
    expect(filterEntries(entries, "detector previous", "")).toEqual([]);
    expect(filterEntries(entries, "kr previous", "").map((e) => e.id)).toEqual([]);
    expect(filterEntries(entries, "", "ICI").map((e) => e.id)).toEqual(["induction_head", "retrieval_head"]);
    expect(filterEntries(entries, "zzz", "")).toEqual([]);
  });
  it("lists stages", () => {
    expect(stagesOf(entries)).toEqual(["ICI", "KR"]);
  });
});

// Pure helpers of the view modules (no DOM needed).
import { describe, expect, it } from "vitest";
import { paperLabel, safeUrl } from "../src/catalog";
import { entriesForRoles, headRoleRanks } from "../src/explorer";
import { gridCellSize, roleStats } from "../src/grid";
import { setPath, staticModel } from "../src/static-host";

// [R=2, F=6, L=2, H=2]: fields score, ci_low, ci_high, p, q, sig
function block(): Float32Array {
  const n = 4, F = 6;
  const a = new Float32Array(2 * F * n).fill(NaN);
  a.set([0.1, 0.9, 0.5, 0.3], 0);              // role 0 scores
  a.set([0, 1, 0, 0], 5 * n);                   // role 0 sig: head (0,1)
  a.set([2, 1, NaN, 3], F * n);                 // role 1 scores (one missing)
  a.set([0, 0, 0, 0], (F + 5) * n);
  return a;
}

describe("grid helpers", () => {
  it("slices one role's fields out of the [R, F, L, H] block", () => {
    const st = roleStats(block(), [2, 6, 2, 2], ["score", "ci_low", "ci_high", "p", "q", "sig"], 1);
    expect(Array.from(st.score).slice(0, 2)).toEqual([2, 1]);
    expect(Number.isNaN(st.score[2])).toBe(true);
    expect(st.sig && Array.from(st.sig)).toEqual([0, 0, 0, 0]);
  });
  it("sizes cells to fit wide models", () => {
    expect(gridCellSize(12)).toBe(28);
    expect(gridCellSize(32)).toBe(16);
    expect(gridCellSize(200)).toBe(10);
  });
});

describe("explorer helpers", () => {
  it("ranks a head's roles by effect size (the score), not by significance, skipping missing scores", () => {
    const r = headRoleRanks(block(), [2, 6, 2, 2], ["score", "ci_low", "ci_high", "p", "q", "sig"], ["a", "b"], 0, 1);
    // role b (1, not significant) comes before role a (0.9, significant): effect first
    expect(r.map((x) => [x.role, x.score, x.rank, x.of, x.sig])).toEqual([["b", 1, 3, 3, false], ["a", expect.closeTo(0.9, 6), 1, 4, true]]);
    expect(headRoleRanks(block(), [2, 6, 2, 2], ["score", "ci_low", "ci_high", "p", "q", "sig"], ["a", "b"], 1, 0).map((x) => x.role)).toEqual(["a"]);
  });
  it("finds catalogue entries by detector role", () => {
    const e = [{ id: "x", name: "X", detector: ["previous"] }, { id: "y", name: "Y" }];
    expect(entriesForRoles(e, ["previous", "self"]).map((x) => x.id)).toEqual(["x"]);
  });
});

describe("catalogue helpers", () => {
  it("only lets http(s) URLs become links", () => {
    expect(safeUrl("https://arxiv.org/abs/2209.11895")).toBe("https://arxiv.org/abs/2209.11895");
    expect(safeUrl("javascript:alert(1)")).toBeNull();
    expect(safeUrl("data:text/html,<b>")).toBeNull();
    expect(safeUrl("not a url")).toBeNull();
    expect(safeUrl(42)).toBeNull();
  });
  it("labels papers from what is known", () => {
    expect(paperLabel({ authors: "Olsson et al.", year: 2022, title: "Induction heads" })).toBe("Olsson et al. (2022) Induction heads");
    expect(paperLabel({ id: "P1" })).toBe("P1");
  });
});

describe("static host", () => {
  it("puts buffers back at their paths", () => {
    const st: any = { grid: { shape: [1], buf: null }, preload: { "0.1": { buf: null } } };
    setPath(st, ["grid", "buf"], 1);
    setPath(st, ["preload", "0.1", "buf"], 2);
    expect(st.grid.buf).toBe(1);
    expect(st.preload["0.1"].buf).toBe(2);
  });
  it("has a kernel-free model that notifies change listeners", () => {
    const m = staticModel({ selected: null });
    const seen: unknown[] = [];
    const f = (v: unknown) => seen.push(v);
    m.on("change:selected", f);
    m.set("selected", [1, 2]);
    m.set("selected", m.get("selected"));    // same value: no event
    m.off("change:selected", f);
    m.set("selected", [0, 0]);
    expect(seen).toEqual([[1, 2]]);
    expect(() => { m.save_changes(); m.send(); }).not.toThrow();
  });
});

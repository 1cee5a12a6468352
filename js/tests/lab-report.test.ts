// Report files -> the report document's grid state, head cards and tables (js/lab/src/report-data.ts).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodePacked } from "../src/codec";
import { cellLabel } from "../src/explain";
import { roleStats, cellStats } from "../src/grid";
import type { Packed, ScoreInfo } from "../src/protocol";
import {
  GRID_FIELDS, ReportError, gridBlock, gridState, headRows, isSignificant, parsePart, parseReport, rowCells, scoreInfo,
  scoreKind, significantByRole,
} from "../lab/src/report-data";

const F = GRID_FIELDS.length;

// Two roles on a 2 x 2 model, as Report.to_json_dict() writes them (null = NaN in Python).
const rec = (role: string, layer: number, head: number, score: number | null, q: number | null, sig: boolean | null, extra = {}) =>
  ({ role, layer, head, score, ci_low: score === null ? null : score - 0.1, ci_high: score === null ? null : score + 0.1,
     p_value: q === null ? null : q / 2, q_value: q, significant: sig, n: 20, ...extra });
const TABLE = [
  rec("prev", 0, 0, 0.9, 0.001, true, { published: ["previous_token_head"], catalog: ["previous_token_head"] }),
  rec("prev", 0, 1, 0.2, 0.3, false),
  rec("prev", 1, 0, 0.5, 0.01, true),
  rec("prev", 1, 1, null, null, null),
  rec("self", 1, 1, 0.7, 0.02, true),
  rec("self", 0, 0, 0.1, 0.5, false),
];
const DOC = {
  format: "headlab.report", version: 1, roles: ["prev", "self"], n_layers: 2, n_heads: 2, n_samples: 20, alpha: 0.05,
  model_name: "gpt2", method: "lift", provenance: { test: "one-sample t", correction: "fdr_bh" }, table: TABLE,
};

/** The same report in Report.save()'s column layout. */
function columns(doc: typeof DOC) {
  const cols = Object.keys(TABLE[0]).concat("published", "catalog").filter((c, i, a) => a.indexOf(c) === i);
  const table: Record<string, unknown[]> = {};
  for (const c of cols) table[c] = doc.table.map((r: any) => r[c] ?? null);
  return { format: "headlab.report", version: 1, roles: doc.roles, shape: [20, 2, 2], columns: cols, table,
           provenance: { model: "gpt2", method: "lift", alpha: 0.05, n_samples: 20 } };
}

describe("parsing", () => {
  it("reads headlab scan's records", () => {
    const p = parsePart(DOC);
    expect([p.model_name, p.method, p.n_layers, p.n_heads, p.n_samples, p.alpha]).toEqual(["gpt2", "lift", 2, 2, 20, 0.05]);
    expect(p.roles).toEqual(["prev", "self"]);
    expect(p.rows).toHaveLength(6);
    expect(Number.isNaN(p.rows[3].score)).toBe(true);
    expect([p.test, p.correction]).toEqual(["one-sample t", "fdr_bh"]);
  });
  it("reads Report.save()'s columns to the same rows", () => {
    const a = parsePart(DOC), b = parsePart(columns(DOC));
    expect(b.rows).toEqual(a.rows);
    expect([b.model_name, b.n_layers, b.n_heads, b.n_samples]).toEqual(["gpt2", 2, 2, 20]);
  });
  it("refuses files that are not reports, saying why", () => {
    expect(() => parsePart({ format: "other", table: TABLE })).toThrow(/not a headlab report/);
    expect(() => parsePart({ format: "headlab.report", table: [] })).toThrow(ReportError);
    expect(() => parsePart([1, 2])).toThrow(/not a JSON object/);
  });
  it("keeps a readable detect section and drops a broken one", () => {
    expect(parseReport({ ...DOC, detect: { ...DOC, roles: ["induction"], table: [rec("induction", 0, 1, 0.3, 0.01, true)] } }).detect?.roles)
      .toEqual(["induction"]);
    expect(parseReport({ ...DOC, detect: { table: "nope" } }).detect).toBeNull();
    expect(parseReport(DOC).detect).toBeNull();
  });
});

describe("grid state", () => {
  it("has the live grid's fields, in headlab.views.protocol.GRID_FIELDS order", () => {
    const py = readFileSync(new URL("../../headlab/views/protocol.py", import.meta.url), "utf-8");
    const list = py.match(/^GRID_FIELDS = \[([^\]]*)\]/m);
    expect(list).not.toBeNull();
    expect([...GRID_FIELDS]).toEqual(JSON.parse(`[${list![1]}]`));
    expect(GRID_FIELDS).toContain("n");
  });
  it("fills [R, 7, L, H] like headlab.views.payload.grid_from_table", () => {
    const g = gridBlock(parsePart(DOC));
    const at = (r: number, f: string, l: number, h: number) => g[((r * F + GRID_FIELDS.indexOf(f as never)) * 2 + l) * 2 + h];
    expect(g).toHaveLength(2 * F * 2 * 2);
    expect(at(0, "n", 0, 0)).toBe(20);
    expect(at(1, "n", 1, 1)).toBe(20);
    expect(at(0, "score", 1, 0)).toBeCloseTo(0.5);
    expect(at(0, "q", 0, 0)).toBeCloseTo(0.001);
    expect(at(0, "sig", 1, 0)).toBe(1);
    expect(at(0, "sig", 0, 1)).toBe(0);
    expect(Number.isNaN(at(0, "score", 1, 1))).toBe(true);   // missing stays missing
    expect(Number.isNaN(at(1, "score", 0, 1))).toBe(true);   // no row for it
  });
  it("decides significance from q when the file has no flag", () => {
    const p = parsePart({ ...DOC, table: [rec("prev", 0, 0, 0.9, 0.001, null), rec("prev", 0, 1, 0.2, 0.3, null)] });
    expect(isSignificant(p.rows[0], p.alpha)).toBe(true);
    expect(isSignificant(p.rows[1], p.alpha)).toBe(false);
    expect(gridBlock(p)[GRID_FIELDS.indexOf("sig") * 4]).toBe(1);
  });
  it("is the state the grid view reads", () => {
    const st = gridState(parsePart(DOC), { previous_token_head: "Previous Token Head" });
    const grid = st.grid as Packed;
    expect(grid.shape).toEqual([2, F, 2, 2]);
    expect(st.fields).toEqual([...GRID_FIELDS]);
    expect(decodePacked(grid)[0]).toBeCloseTo(0.9);
    expect(st.has_stats).toBe(true);
    expect(st.role).toBe("prev");
    expect(st.matches).toEqual({ L0H0: ["Previous Token Head"] });
    expect(st.role_matches).toEqual({ prev: { L0H0: ["Previous Token Head"] } });
  });
});

describe("what the numbers mean (score_info), as the live grid gets it from Python", () => {
  it("decides each role's colour scale as headlab.views.scales.score_kind", () => {
    expect(scoreKind("lift", "previous")).toBe("lift");
    expect(scoreKind("lift", "copying")).toBe("lift");          // a lift report's roles are lifts whatever their name
    expect(scoreKind("probe", "induction")).toBe("share");
    expect(scoreKind("probe", "previous_token")).toBe("share");
    expect(scoreKind("probe", "copying")).toBe("copying");
    expect(scoreKind("pande", "previous")).toBe("own");
    expect(scoreKind("compare", "previous")).toBe("own");
    expect(scoreKind("", "previous")).toBe("own");
  });
  it("sends score_info with the report's method, kinds, correction and CI level", () => {
    const doc = { ...DOC, provenance: { ...DOC.provenance, ci: { level: 0.9 } } };
    const info = gridState(parsePart(doc)).score_info as ScoreInfo;
    expect(info).toEqual({ method: "lift", kinds: { prev: "lift", self: "lift" }, descriptions: { prev: "", self: "" },
                           correction: "fdr_bh", ci_level: 0.9 });
    expect(Object.keys(info)).toEqual(["method", "kinds", "descriptions", "correction", "ci_level"]);   // SCORE_INFO_KEYS
    expect(scoreInfo(parsePart(DOC)).ci_level).toBe(0.95);
  });
  it("gives detect's probe roles share scales, and copying its -1..1 scale", () => {
    const det = { ...DOC, method: "probe", roles: ["induction", "copying"],
                  table: [rec("induction", 0, 0, 0.4, 0.01, true), rec("copying", 0, 0, -0.2, 0.5, false)] };
    const file = parseReport({ ...DOC, detect: det });
    expect((gridState(file.detect!).score_info as ScoreInfo).kinds).toEqual({ induction: "share", copying: "copying" });
    expect((gridState(file.main).score_info as ScoreInfo).kinds).toEqual({ prev: "lift", self: "lift" });
  });
  it("takes the method from the table when the file does not name it", () => {
    const { method, ...bare } = DOC;
    expect(method).toBe("lift");
    expect(parsePart({ ...bare, provenance: {}, table: TABLE.map((r) => ({ ...r, method: "pande" })) }).method).toBe("pande");
    expect(parsePart({ ...bare, provenance: {}, table: [{ ...TABLE[0], method: "lift" }, { ...TABLE[1], method: "pande" }] }).method).toBe("");
  });
});

describe("cards and tables", () => {
  it("say n/a (n = 1) where one sample leaves no CI and no q, in the grid's words", () => {
    const one = rec("prev", 0, 0, 0.3, null, null, { ci_low: null, ci_high: null, p_value: null, n: 1 });
    const p = parsePart({ ...DOC, table: [one, rec("prev", 0, 1, 0.2, 0.00001, true)] });
    expect(rowCells(p.rows[0])).toEqual({ score: "0.3", ci: "n/a (n = 1)", q: "n/a (n = 1)", n: "1" });
    expect(rowCells(p.rows[1])).toEqual({ score: "0.2", ci: "[0.1, 0.3]", q: "< 1e-4", n: "20" });
    expect(rowCells(parsePart(DOC).rows[1]).q).toBe("0.3");
    // the grid's accessible name for the same head reads n from the grid block
    const st = gridState(p);
    const g = st.grid as Packed;
    const cell = cellStats(roleStats(decodePacked(g), g.shape, st.fields as string[], 0), 0);
    expect(cell.n).toBe(1);
    expect(cellLabel("L0H0", "prev", cell, true)).toBe("L0H0 prev: 0.3 n/a (n = 1), q n/a (n = 1), not significant");
  });
  it("lists every role of one head in report order", () => {
    expect(headRows(parsePart(DOC), 1, 1).map((r) => [r.role, r.score])).toEqual([["prev", NaN], ["self", 0.7]]);
  });
  it("lists significant heads per role, strongest first", () => {
    const s = significantByRole(parsePart(DOC));
    expect(s.map((x) => [x.role, x.rows.map((r) => `${r.layer}.${r.head}`)])).toEqual([["prev", ["0.0", "1.0"]], ["self", ["1.1"]]]);
  });
});

// Report files -> the report document's grid state, head cards and tables (js/lab/src/report-data.ts).
import { describe, expect, it } from "vitest";
import { decodePacked } from "../src/codec";
import type { Packed } from "../src/protocol";
import {
  GRID_FIELDS, ReportError, gridBlock, gridState, headRows, isSignificant, parsePart, parseReport, significantByRole,
} from "../lab/src/report-data";

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
  it("fills [R, 6, L, H] like headlab.views.payload.grid_from_table", () => {
    const g = gridBlock(parsePart(DOC));
    const at = (r: number, f: string, l: number, h: number) => g[((r * 6 + GRID_FIELDS.indexOf(f as never)) * 2 + l) * 2 + h];
    expect(g).toHaveLength(2 * 6 * 2 * 2);
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
    expect(gridBlock(p)[5 * 4]).toBe(1);
  });
  it("is the state the grid view reads", () => {
    const st = gridState(parsePart(DOC), { previous_token_head: "Previous Token Head" });
    const grid = st.grid as Packed;
    expect(grid.shape).toEqual([2, 6, 2, 2]);
    expect(decodePacked(grid)[0]).toBeCloseTo(0.9);
    expect(st.has_stats).toBe(true);
    expect(st.role).toBe("prev");
    expect(st.matches).toEqual({ L0H0: ["Previous Token Head"] });
    expect(st.role_matches).toEqual({ prev: { L0H0: ["Previous Token Head"] } });
  });
});

describe("cards and tables", () => {
  it("lists every role of one head in report order", () => {
    expect(headRows(parsePart(DOC), 1, 1).map((r) => [r.role, r.score])).toEqual([["prev", NaN], ["self", 0.7]]);
  });
  it("lists significant heads per role, strongest first", () => {
    const s = significantByRole(parsePart(DOC));
    expect(s.map((x) => [x.role, x.rows.map((r) => `${r.layer}.${r.head}`)])).toEqual([["prev", ["0.0", "1.0"]], ["self", ["1.1"]]]);
  });
});

// A headlab report file -> what the report document shows. Pure: no DOM, no JupyterLab.
//
// Accepted files: `headlab scan`'s JSON (Report.to_json_dict(): `table` is a list of records,
// one per role, layer and head, plus an optional `detect` section of the same layout) and
// `Report.save()`'s JSON (`columns` + a column-oriented `table`). Missing values are null.

import { ciText, qText } from "../../src/explain";
import { type Packed, type ScoreInfo, headKey } from "../../src/protocol";
import { fmt } from "../../src/scales";

/**
 * The grid view's fields, in the order of headlab.views.protocol.GRID_FIELDS (the list the live
 * grid syncs, GridTraits.fields in js/src/protocol.ts; js/tests/lab-report.test.ts reads the Python
 * list and holds this one to it). `n`: the samples the role applied to, which its test and CI used.
 */
export const GRID_FIELDS = ["score", "ci_low", "ci_high", "p", "q", "sig", "n"] as const;

export interface ReportRow {
  role: string;
  layer: number;
  head: number;
  score: number;          // NaN when missing
  ci_low: number;
  ci_high: number;
  p_value: number;
  q_value: number;
  significant: boolean | null;
  n: number;
  /** Catalogue type ids published for this head / consistent with this role. */
  published: string[];
  catalog: string[];
}

export interface ReportPart {
  model_name: string;
  method: string;
  n_layers: number;
  n_heads: number;
  n_samples: number | null;
  alpha: number;
  roles: string[];
  rows: ReportRow[];
  /** Test and correction as the provenance names them ("" when absent). */
  test: string;
  correction: string;
  /** Level of the bootstrap CI (provenance.ci.level; 0.95 when absent). */
  ci_level: number;
}

export interface ReportFile { main: ReportPart; detect: ReportPart | null }

export class ReportError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : NaN);
const str = (v: unknown): string => (typeof v === "string" ? v : v === null || v === undefined ? "" : String(v));
const strList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === "string") : typeof v === "string" && v ? [v] : []);
const intOr = (v: unknown, d: number): number => (typeof v === "number" && Number.isInteger(v) ? v : d);

/** Table records from either layout. */
function records(doc: Record<string, unknown>): Record<string, unknown>[] {
  const t = doc.table;
  if (Array.isArray(t)) return t.filter(isObject);
  if (isObject(t)) {
    const cols = Array.isArray(doc.columns) ? doc.columns.map(str) : Object.keys(t);
    const lens = cols.map((c) => (Array.isArray(t[c]) ? (t[c] as unknown[]).length : 0));
    const n = Math.max(0, ...lens);
    const out: Record<string, unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const r: Record<string, unknown> = {};
      for (const c of cols) r[c] = Array.isArray(t[c]) ? (t[c] as unknown[])[i] : undefined;
      out.push(r);
    }
    return out;
  }
  return [];
}

function row(r: Record<string, unknown>): ReportRow | null {
  const layer = r.layer, head = r.head;
  if (typeof r.role !== "string" || !Number.isInteger(layer) || !Number.isInteger(head)) return null;
  return {
    role: r.role, layer: layer as number, head: head as number,
    score: num(r.score), ci_low: num(r.ci_low), ci_high: num(r.ci_high),
    p_value: num(r.p_value), q_value: num(r.q_value),
    significant: typeof r.significant === "boolean" ? r.significant : null,
    n: num(r.n), published: strList(r.published), catalog: strList(r.catalog),
  };
}

/** One report (the main part or `detect`). */
export function parsePart(raw: unknown, what = "the file"): ReportPart {
  if (!isObject(raw)) throw new ReportError(`${what} is not a JSON object`);
  if (raw.format !== undefined && raw.format !== "headlab.report")
    throw new ReportError(`${what} is not a headlab report (its "format" is ${JSON.stringify(raw.format)}, not "headlab.report")`);
  const rows = records(raw).map(row).filter((r): r is ReportRow => r !== null);
  if (!rows.length)
    throw new ReportError(`${what} has no table rows with role, layer and head; write one with \`headlab scan\` or Report.save()`);
  const prov = isObject(raw.provenance) ? raw.provenance : {};
  const shape = Array.isArray(raw.shape) ? raw.shape : Array.isArray(prov.shape) ? prov.shape : [];
  const L = intOr(raw.n_layers, intOr(shape[1], 1 + Math.max(...rows.map((r) => r.layer))));
  const H = intOr(raw.n_heads, intOr(shape[2], 1 + Math.max(...rows.map((r) => r.head))));
  const listed = strList(raw.roles);
  const roles = listed.length ? listed : [...new Set(rows.map((r) => r.role))];
  const alpha = num(raw.alpha ?? prov.alpha);
  const n = num(raw.n_samples ?? prov.n_samples ?? shape[0]);
  const ci = isObject(prov.ci) ? prov.ci : {};
  const level = num(ci.level);
  return {
    model_name: str(raw.model_name ?? prov.model), method: str(raw.method ?? prov.method) || tableMethod(records(raw)),
    n_layers: L, n_heads: H, n_samples: Number.isFinite(n) ? n : null,
    alpha: Number.isFinite(alpha) ? alpha : 0.05, roles, rows,
    test: str(prov.test), correction: str(prov.correction),
    ci_level: level > 0 && level < 1 ? level : 0.95,
  };
}

/** The table's `method` column when every row that has one agrees (as headlab.views.payload._method_of); else "". */
function tableMethod(recs: Record<string, unknown>[]): string {
  const seen = new Set(recs.map((r) => r.method).filter((m): m is string => typeof m === "string" && m !== ""));
  return seen.size === 1 ? [...seen][0] : "";
}

/**
 * The colour-scale kind of a role's scores, as headlab.views.scales.score_kind decides it (the
 * live grid gets it from Python in score_info.kinds): a lift report's roles are "lift"; probe
 * roles (detect) are shares, except copying, which runs from -1 to 1; anything else (Pande's
 * sieve bias, differences, unknown methods) spans its own range ("own").
 */
export function scoreKind(method: string, role: string): "lift" | "share" | "copying" | "own" {
  if (method === "lift") return "lift";
  if (method === "probe") return role === "copying" ? "copying" : "share";
  return "own";
}

/** What the grid's numbers mean, as headlab.views.payload.report_score_info writes it for the live grid. */
export function scoreInfo(part: ReportPart): ScoreInfo {
  return {
    method: part.method,
    kinds: Object.fromEntries(part.roles.map((r) => [r, scoreKind(part.method, r)])),
    // the role registry lives in Python; a report file does not carry its sieve descriptions
    descriptions: Object.fromEntries(part.roles.map((r) => [r, ""])),
    correction: part.correction,
    ci_level: part.ci_level,
  };
}

export function parseReport(raw: unknown): ReportFile {
  const main = parsePart(raw);
  const det = isObject(raw) ? raw.detect : undefined;
  let detect: ReportPart | null = null;
  if (isObject(det)) {
    try { detect = parsePart(det, "its detect section"); } catch { detect = null; }
  }
  return { main, detect };
}

/** Whether a row is significant: its flag, or q < alpha when the file has no flag. */
export function isSignificant(r: ReportRow, alpha: number): boolean {
  return r.significant ?? (Number.isFinite(r.q_value) && r.q_value < alpha);
}

/** float32 [R, 7, L, H] of score, ci_low, ci_high, p, q, sig, n (NaN = missing), as grid_from_table. */
export function gridBlock(part: ReportPart): Float32Array {
  const R = part.roles.length, F = GRID_FIELDS.length, L = part.n_layers, H = part.n_heads, n = L * H;
  const out = new Float32Array(R * F * n).fill(NaN);
  const index = new Map(part.roles.map((r, i) => [r, i]));
  for (const r of part.rows) {
    const ri = index.get(r.role);
    if (ri === undefined || r.layer < 0 || r.layer >= L || r.head < 0 || r.head >= H) continue;
    const cell = r.layer * H + r.head;
    const sig = r.significant === null ? (Number.isFinite(r.q_value) ? Number(r.q_value < part.alpha) : NaN) : Number(r.significant);
    const vals: Record<(typeof GRID_FIELDS)[number], number> = {
      score: r.score, ci_low: r.ci_low, ci_high: r.ci_high, p: r.p_value, q: r.q_value, sig, n: r.n,
    };
    GRID_FIELDS.forEach((f, i) => { out[(ri * F + i) * n + cell] = vals[f]; });
  }
  return out;
}

/** The grid view's synced state for one report part (what HeadGrid(report) would sync). */
export function gridState(part: ReportPart, names: Record<string, string> = {}): Record<string, unknown> {
  const block = gridBlock(part);
  const grid: Packed = {
    shape: [part.roles.length, GRID_FIELDS.length, part.n_layers, part.n_heads], dtype: "float32", buf: block.buffer,
  };
  const matches: Record<string, string[]> = {};
  const roleMatches: Record<string, Record<string, string[]>> = {};
  for (const r of part.rows) {
    const key = headKey(r.layer, r.head);
    for (const id of r.published) {
      const list = (matches[key] ??= []);
      const name = names[id] ?? id;
      if (!list.includes(name)) list.push(name);
    }
    if (r.catalog.length) (roleMatches[r.role] ??= {})[key] = r.catalog.map((id) => names[id] ?? id);
  }
  return {
    _view: "grid", title: "", n_layers: part.n_layers, n_heads: part.n_heads, model_name: part.model_name,
    roles: part.roles, role: part.roles[0] ?? "", grid, fields: [...GRID_FIELDS],
    has_stats: part.rows.some((r) => Number.isFinite(r.q_value)), alpha: part.alpha,
    matches, role_matches: roleMatches, selected: null, highlight: [], highlight_label: "",
    pending: [], notice: "", score_info: scoreInfo(part), grid_mode: "scores", thumbs: null,
  };
}

/** Every role's row for one head, in role order (the per-head card). */
export function headRows(part: ReportPart, layer: number, head: number): ReportRow[] {
  const order = new Map(part.roles.map((r, i) => [r, i]));
  return part.rows
    .filter((r) => r.layer === layer && r.head === head)
    .sort((a, b) => (order.get(a.role) ?? 1e9) - (order.get(b.role) ?? 1e9));
}

/** Significant heads per role (roles in report order), strongest score first. */
export function significantByRole(part: ReportPart): { role: string; rows: ReportRow[] }[] {
  return part.roles.map((role) => ({
    role,
    rows: part.rows
      .filter((r) => r.role === role && isSignificant(r, part.alpha))
      .sort((a, b) => (Number.isFinite(b.score) ? b.score : -Infinity) - (Number.isFinite(a.score) ? a.score : -Infinity)),
  }));
}

/** A row's numbers as the table cells show them, in the live grid's words (js/src/explain.ts). */
export function rowCells(r: ReportRow): { score: string; ci: string; q: string; n: string } {
  return {
    score: fmt(r.score),
    ci: ciText(r.ci_low, r.ci_high, r.n),             // "[0.38, 0.46]", or "n/a (n = 1)"
    q: qText(r.q_value, r.n).replace(/^q (= )?/, ""), // the column says "q": "0.031", "< 1e-4", "n/a (n = 1)"
    n: Number.isFinite(r.n) ? String(r.n) : "–",
  };
}

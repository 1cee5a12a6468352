// What the numbers mean, said where they are: tooltip lines, accessible names of grid cells, the
// one-line explanation of a role's sieve, the order of a head's roles. Pure functions, no DOM.
// The wording follows the HTML report's (headlab/report/html_help.py), so a reader meets one
// explanation of lift, CI, q and n wherever the numbers appear.

import type { ScoreInfo } from "./protocol";
import { fmt, fmtP } from "./scales";

/** A tooltip line: plain text, or [text, class] (e.g. muted help). */
export type TipLine = string | [string, string];

const CORRECTIONS: Record<string, string> = {
  fdr_bh: "the Benjamini–Hochberg-adjusted p (false-discovery rate)",
  fdr_by: "the Benjamini–Yekutieli-adjusted p (false-discovery rate under any dependence)",
  holm: "the Holm-adjusted p (family-wise error rate)",
  bonferroni: "the Bonferroni-adjusted p (family-wise error rate)",
  none: "the p-value itself (no correction for testing many heads)",
};

/** What q is, from the report's correction (headlab's default is Benjamini–Hochberg). */
export function correctionName(correction: string | undefined): string {
  if (!correction) return CORRECTIONS.fdr_bh;
  return CORRECTIONS[correction] ?? `the p-value adjusted by ${correction}`;
}

/** The short name of a score: lift, sieve bias, share, ... */
export function scoreName(kind: string | undefined, method: string | undefined): string {
  if (kind === "lift") return "lift";
  if (kind === "share") return "share";
  if (kind === "copying") return "copying";
  if (method === "pande") return "sieve bias";
  if (method === "compare") return "difference";
  return "score";
}

/** One sentence: what the score means at 0 and at 1 (for lift: uniform, and all on the role's keys). */
export function scoreMeaning(kind: string | undefined, method: string | undefined): string {
  if (kind === "lift")
    return "lift: 0 = attention as if uniform over the keys the query sees, 1 = all of it on the role's keys; " +
      "below 0 (orange) = less than uniform, the head avoids them";
  if (kind === "share") return "share of attention on the probe's target: 0 = none, 1 = all of it";
  if (kind === "copying") return "copying score: from −1 (lowers the attended token's logit) to 1 (raises it); 0 = no effect";
  if (method === "pande")
    return "sieve bias (Pande et al. 2021): attention per role key over attention per key; 1 = uniform. " +
      "It grows with text length; colours span this role's range";
  if (method === "compare") return "difference between two reports (second minus first); 0 = no change; colours span this role's range";
  return "score with no fixed range: colours span this role's range";
}

/** Why an interval or a q is missing, with n visible: "n/a (n = 1)" (never "n/a – n/a"). */
export function whyMissing(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "n/a";
  return n < 2 ? `n/a (n = ${Math.round(n)})` : `no test (same score on all ${Math.round(n)} samples)`;
}

/** "[0.38, 0.46]", or why there is no interval. */
export function ciText(low: number | undefined, high: number | undefined, n: number | undefined): string {
  if (low !== undefined && high !== undefined && Number.isFinite(low) && Number.isFinite(high))
    return `[${fmt(low)}, ${fmt(high)}]`;
  return whyMissing(n);
}

/** "q < 1e-4", "q = 0.031", or "q n/a (n = 1)". */
export function qText(q: number | undefined, n: number | undefined): string {
  if (q === undefined || !Number.isFinite(q)) return `q ${whyMissing(n)}`;
  const s = fmtP(q);
  return s.startsWith("<") ? `q ${s}` : `q = ${s}`;
}

/** One head's numbers for one role, as the grid reads them from its [R, F, L, H] block. */
export interface CellStats {
  score: number;
  ci_low?: number;
  ci_high?: number;
  p?: number;
  q?: number;
  sig?: boolean;
  n?: number;
}

const pct = (level: number | undefined) => `${Math.round(100 * (level ?? 0.95))}%`;

/** The accessible name of a grid cell: "L3H5 local: 0.42 [0.38, 0.46], q < 1e-4, significant". */
export function cellLabel(head: string, role: string, c: CellStats, hasStats: boolean): string {
  if (!Number.isFinite(c.score)) return `${head} ${role}: no score`;
  if (!hasStats) return `${head} ${role}: ${fmt(c.score)} (on this text, no test)`;
  return `${head} ${role}: ${fmt(c.score)} ${ciText(c.ci_low, c.ci_high, c.n)}, ${qText(c.q, c.n)}, ` +
    (c.sig ? "significant" : "not significant");
}

/** The numbers of a cell's tooltip, then what each of them means. */
export function cellTip(head: string, role: string, c: CellStats, info: Partial<ScoreInfo> | undefined,
                        hasStats: boolean, alpha: number): TipLine[] {
  const kind = info?.kinds?.[role];
  const name = scoreName(kind, info?.method);
  const lines: TipLine[] = [`${head} · ${role}`];
  if (!Number.isFinite(c.score)) {
    lines.push(`no ${name}: the role applies to no sample${Number.isFinite(c.n ?? NaN) ? ` (n = ${c.n})` : ""}`);
    return lines;
  }
  if (!hasStats) {
    lines.push(`${name} ${fmt(c.score)} on this text (one text: no CI, no test)`);
    lines.push([scoreMeaning(kind, info?.method), "headlab-tip-help"]);
    return lines;
  }
  const hasN = c.n !== undefined && Number.isFinite(c.n);
  lines.push(`${name} ${fmt(c.score)} · ${pct(info?.ci_level)} CI ${ciText(c.ci_low, c.ci_high, c.n)}${hasN ? ` · n = ${c.n}` : ""}`);
  const p = c.p !== undefined && Number.isFinite(c.p) ? `p ${fmtP(c.p)} · ` : "";
  lines.push(`${p}${qText(c.q, c.n)}${c.sig ? ` · significant (q < ${alpha})` : ` · not significant (q ≥ ${alpha})`}`);
  lines.push([scoreMeaning(kind, info?.method), "headlab-tip-help"]);
  lines.push([`CI: a ${pct(info?.ci_level)} bootstrap interval of the mean ${name} (samples resampled)`, "headlab-tip-help"]);
  lines.push([`q: ${correctionName(info?.correction)}; significant when q < ${alpha}`, "headlab-tip-help"]);
  lines.push(["n: the samples (texts) the role applied to, which the test and the CI used", "headlab-tip-help"]);
  return lines;
}

/** The line under the role selector: what the role's sieve is, and what its score means. */
export function roleHelp(role: string, info: Partial<ScoreInfo> | undefined): string {
  const d = info?.descriptions?.[role];
  const meaning = scoreMeaning(info?.kinds?.[role], info?.method);
  return d ? `${role}: each query's sieve is ${d}. ${capital(meaning)}.` : `${role}: ${meaning}.`;
}

const capital = (s: string) => (s ? s[0].toUpperCase() + s.slice(1) : s);

/** What a thumbnail shows. */
export function patternHelp(blocks: number, tokensPerBlock: number): string {
  const unit = tokensPerBlock === 1 ? "one token" : `${tokensPerBlock} tokens`;
  return `each cell: the head's attention on this text in ${blocks} × ${blocks} blocks of ${unit} (rows: queries, ` +
    "columns: keys); colour: the share of a query block's attention on a key block, 0 to 1";
}

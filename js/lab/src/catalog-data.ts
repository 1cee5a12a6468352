// The head-type catalogue shipped with the extension: normalising the JSON and searching it.
// Pure: no DOM, no JupyterLab.
//
// The JSON is written at build time (js/lab/make_catalog_json.py today; `python -m
// headlab.catalog export-json` once it exists). Accepted shapes: {"types": [...]}, {"entries":
// [...]}, a list of types, or {id: type}. Each type: id, name, Chinese names (`zh` as strings or
// {name}, and/or `name_zh`), aliases, stage (code or {primary, name}), definition, detector
// roles, papers ({id, title, year, url, authors, venue, bibtex}) and known instances.

import type { CatalogEntry } from "../../src/protocol";

export interface CatalogPaper {
  id?: string; title?: string; year?: number | string; url?: string; authors?: string; venue?: string; bibtex?: string;
}
export interface CatalogInstance { model?: string; layer?: number; head?: number; note?: string; source?: string; confidence?: string }

/** One head type; a CatalogEntry (what js/src/catalog.ts's card reads) plus Chinese names and BibTeX. */
export interface CatalogType extends CatalogEntry {
  aliases: string[];
  zh: string[];
  stage_name?: string;
  detector: string[];
  papers: CatalogPaper[];
  known_instances: CatalogInstance[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const text = (v: unknown): string => (typeof v === "string" ? v.trim() : typeof v === "number" ? String(v) : "");
const texts = (v: unknown): string[] =>
  Array.isArray(v) ? v.map((x) => (isObject(x) ? text(x.name) : text(x))).filter(Boolean) : text(v) ? [text(v)] : [];
const optInt = (v: unknown): number | undefined => (typeof v === "number" && Number.isInteger(v) ? v : undefined);

function paper(p: unknown): CatalogPaper | null {
  if (typeof p === "string") return p ? { id: p } : null;
  if (!isObject(p)) return null;
  const authors = Array.isArray(p.authors) ? p.authors.map(text).filter(Boolean).join(", ") : text(p.authors);
  const out: CatalogPaper = {
    id: text(p.id), title: text(p.title), url: text(p.url), authors, venue: text(p.venue), bibtex: text(p.bibtex),
  };
  if (typeof p.year === "number" || (typeof p.year === "string" && p.year)) out.year = p.year;
  return out;
}

function instance(k: unknown): CatalogInstance | null {
  if (!isObject(k)) return null;
  return {
    model: text(k.model) || undefined, layer: optInt(k.layer), head: optInt(k.head),
    note: text(k.note) || undefined, source: text(k.source) || undefined, confidence: text(k.confidence) || undefined,
  };
}

function one(raw: unknown, fallbackId = ""): CatalogType | null {
  if (!isObject(raw)) return null;
  const id = text(raw.id) || fallbackId;
  if (!id) return null;
  const stage = isObject(raw.stage) ? raw.stage : null;
  const zh = [...new Set([...texts(raw.name_zh), ...texts(raw.zh), ...texts(raw.names_zh), ...texts(raw.chinese)])];
  return {
    id,
    name: text(raw.name) || id,
    aliases: texts(raw.aliases),
    zh,
    stage: stage ? text(stage.primary) : text(raw.stage),
    stage_name: stage ? text(stage.name) : text(raw.stage_name),
    definition: text(raw.definition).replace(/\s+/g, " "),
    detector: texts(raw.detector ?? raw.roles),
    papers: (Array.isArray(raw.papers) ? raw.papers : []).map(paper).filter((p): p is CatalogPaper => p !== null),
    known_instances: (Array.isArray(raw.known_instances) ? raw.known_instances : Array.isArray(raw.instances) ? raw.instances : [])
      .map(instance).filter((k): k is CatalogInstance => k !== null),
  };
}

/** Every head type in the file, in file order; unreadable items are skipped. */
export function normalizeCatalog(raw: unknown): CatalogType[] {
  let items: [unknown, string][] = [];
  if (Array.isArray(raw)) items = raw.map((x) => [x, ""]);
  else if (isObject(raw)) {
    const list = raw.types ?? raw.entries ?? raw.heads;
    if (Array.isArray(list)) items = list.map((x) => [x, ""]);
    else if (isObject(list)) items = Object.entries(list).map(([k, v]) => [v, k]);
    else items = Object.entries(raw).filter(([, v]) => isObject(v)).map(([k, v]) => [v, k]);
  }
  const seen = new Set<string>();
  const out: CatalogType[] = [];
  for (const [v, k] of items) {
    const t = one(v, k);
    if (t && !seen.has(t.id)) { seen.add(t.id); out.push(t); }
  }
  return out;
}

/** Case, width, space and punctuation folded ("Induction-Heads" ~ "induction heads"). */
export function fold(s: string): string {
  return s.normalize("NFKC").toLowerCase().replace(/[\s\p{P}\p{S}_]+/gu, "");
}

function names(t: CatalogType): string[] {
  return [t.id, t.name, ...t.aliases, ...t.zh];
}

/**
 * Types matching `query`, best first: a name, alias or Chinese name equal to the query, then
 * starting with it, then containing it, then every word of the query found anywhere (names,
 * definition, detector roles, paper titles). An empty query returns every type.
 */
export function searchCatalog(types: CatalogType[], query: string): CatalogType[] {
  const q = fold(query);
  if (!q) return types.slice();
  const words = query.normalize("NFKC").toLowerCase().split(/\s+/).map(fold).filter(Boolean);
  const scored: [number, number, CatalogType][] = [];
  types.forEach((t, i) => {
    const ns = names(t).map(fold);
    let rank = -1;
    if (ns.some((n) => n === q)) rank = 0;
    else if (ns.some((n) => n.startsWith(q))) rank = 1;
    else if (ns.some((n) => n.includes(q))) rank = 2;
    else {
      const hay = fold([...names(t), t.definition ?? "", ...t.detector, ...t.papers.map((p) => p.title ?? "")].join(" "));
      if (words.every((w) => hay.includes(w))) rank = 3;
    }
    if (rank >= 0) scored.push([rank, i, t]);
  });
  return scored.sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((s) => s[2]);
}

/** BibTeX of a type's papers, de-duplicated, in paper order ("" when none has any). */
export function bibtexOf(t: CatalogType): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const p of t.papers) {
    const b = p.bibtex?.trim();
    if (b && !seen.has(b)) { seen.add(b); out.push(b); }
  }
  return out.length ? out.join("\n\n") + "\n" : "";
}

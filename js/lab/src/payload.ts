// The saved-output payload (application/vnd.headlab.v1+json) -> the state a view model holds.
// Pure: no DOM, no JupyterLab. The payload may come from an untrusted notebook, so it is read
// defensively: the output's own data is never modified, and buffers are only placed along
// plain own properties (no prototype keys).
//
// Contract (written by the Python side):
//   { version: 1, view: "grid" | "attention" | "explorer" | "catalog",
//     state: { ...synced traits, every binary leaf null ... },
//     buffers: [{ path: ["grid", "buf"], data: "<base64>" }, ...],   // paths into state
//     preload?: {...} (normally inside state), budget?: { heads_embedded, heads_total, how } }

import { base64ToDataView } from "../../src/codec";
import { headKey } from "../../src/protocol";
import type { SendHandler } from "../../src/static-host";

export const PAYLOAD_VERSION = 1;
export const VIEWS = ["grid", "attention", "explorer", "catalog"] as const;

export interface Budget { heads_embedded?: number; heads_total?: number; how?: string }

export interface DecodedPayload {
  /** A fresh copy of the state with DataViews at the buffer paths; views may mutate it. */
  state: Record<string, unknown>;
  view: string;
  budget: Budget | null;
  /** Problems that did not stop rendering (shown under the view). */
  notes: string[];
}

export class PayloadError extends Error {}

const FORBIDDEN = new Set(["__proto__", "prototype", "constructor"]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

/** JSON copy: the output model's data stays untouched whatever the views do with their state. */
function jsonCopy<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/**
 * Put `value` at `path` inside `root`, walking only existing own object/array slots.
 * Returns false (and changes nothing) for a path that does not fit the state.
 */
export function placeAt(root: Record<string, unknown>, path: unknown, value: unknown): boolean {
  if (!Array.isArray(path) || path.length === 0) return false;
  const keys: (string | number)[] = [];
  for (const k of path) {
    if (typeof k === "number" && Number.isInteger(k) && k >= 0) keys.push(k);
    else if (typeof k === "string" && !FORBIDDEN.has(k)) keys.push(k);
    else return false;
  }
  let node: unknown = root;
  for (let i = 0; i < keys.length - 1; i++) {
    if (!isObject(node) || !Object.prototype.hasOwnProperty.call(node, keys[i])) return false;
    node = (node as Record<string | number, unknown>)[keys[i]];
  }
  if (!isObject(node)) return false;
  const last = keys[keys.length - 1];
  if (Array.isArray(node) && (typeof last !== "number" || last >= node.length)) return false;
  (node as Record<string | number, unknown>)[last] = value;
  return true;
}

function finite(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

export function readBudget(raw: unknown): Budget | null {
  if (!isObject(raw)) return null;
  const b: Budget = { heads_embedded: finite(raw.heads_embedded), heads_total: finite(raw.heads_total) };
  if (typeof raw.how === "string" && raw.how.trim()) b.how = raw.how.trim();
  return b;
}

/** Validate and decode a payload; throws PayloadError when nothing sensible can be drawn. */
export function decodePayload(raw: unknown): DecodedPayload {
  if (!isObject(raw)) throw new PayloadError("the headlab output is not a JSON object");
  if (!isObject(raw.state)) throw new PayloadError("the headlab output has no state");
  const notes: string[] = [];
  const version = raw.version;
  if (typeof version === "number" && version > PAYLOAD_VERSION)
    notes.push(`This output was written by a newer headlab (format ${version}); update headlab to see all of it.`);
  const state = jsonCopy(raw.state);
  if (!("preload" in state) && isObject(raw.preload)) state.preload = jsonCopy(raw.preload);
  const view = typeof state._view === "string" && state._view ? state._view : typeof raw.view === "string" ? raw.view : "";
  if (!view) throw new PayloadError("the headlab output does not say which view it is");
  state._view = view;
  // Heads missing from `preload` are asked for through `send`, which the static model answers
  // with how to get them; `_static: true` would make the views fail without that message.
  state._static = false;
  const buffers = Array.isArray(raw.buffers) ? raw.buffers : [];
  let bad = 0;
  for (const b of buffers) {
    if (!isObject(b) || typeof b.data !== "string") { bad++; continue; }
    let dv: DataView;
    try { dv = base64ToDataView(b.data); } catch { bad++; continue; }
    if (!placeAt(state, b.path, dv)) bad++;
  }
  if (bad) notes.push(`${bad} binary part(s) of this output could not be read and are left out.`);
  return { state, view, budget: readBudget(raw.budget), notes };
}

/** What the attention view says for a head whose pattern is not in the saved output. */
export function missingHeadMessage(layer: unknown, head: unknown, budget: Budget | null): string {
  const where = typeof layer === "number" && typeof head === "number" ? headKey(layer, head) : "This head";
  if (budget?.how) return `${where} is not saved in this output. ${budget.how}`;
  const { heads_embedded: k, heads_total: n } = budget ?? {};
  const counts = k !== undefined && n !== undefined && n > 0 ? ` (${k} of ${n} heads are)` : "";
  return `${where} is not saved in this output${counts}. Re-run the cell with a running kernel to load this head.`;
}

/** Looks up a catalogue entry the saved output did not sync (the extension ships the catalogue). */
export type EntryLookup = (id: string) => Promise<unknown | null>;

/**
 * Stand-in for the kernel behind a saved output. Every request a view sends gets a reply, so no
 * view waits for a kernel that is not there: a pattern request an error that says how to get
 * that head; an entry request the entry from `lookup` when it has it, else an error that says
 * why; anything else an error. (A request without a `rid` cannot be matched to a reply.)
 */
export function staticReplies(budget: Budget | null, lookup?: EntryLookup): SendHandler {
  return (content, reply) => {
    if (!isObject(content) || typeof content.rid !== "string") return;
    const rid = content.rid;
    const fail = (message: string) => reply({ kind: "error", rid, message });
    if (content.kind === "pattern") fail(missingHeadMessage(content.layer, content.head, budget));
    else if (content.kind === "entry") answerEntry(content.id, lookup, (entry) => reply({ kind: "entry", rid, entry }), fail);
    else fail("This needs the kernel that made the output: re-run the cell.");
  };
}

/** An entry request without a kernel: the entry, or an error message (never no answer). */
function answerEntry(id: unknown, lookup: EntryLookup | undefined, ok: (entry: unknown) => void, fail: (m: string) => void): void {
  if (typeof id !== "string" || !id) { fail("This catalogue request names no entry."); return; }
  if (!lookup) { fail(`"${id}" is not saved in this output; re-run the cell with a kernel to read it.`); return; }
  let found: Promise<unknown | null>;
  try { found = Promise.resolve(lookup(id)); } catch (e) { found = Promise.reject(e); }
  found.then(
    (entry) => (entry ? ok(entry) : fail(`"${id}" is not in the catalogue shipped with headlab's extension.`)),
    (e: unknown) => fail(`The catalogue could not be read: ${e instanceof Error ? e.message : String(e)}`),
  );
}

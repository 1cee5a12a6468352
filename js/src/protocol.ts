// The contract with the Python widgets (headlab/views/protocol.py is its twin, and
// tests/unit/test_protocol.py holds the two to each other): the synced traits of every view,
// the custom messages, and the key of a head in every map.

/** The one name and map key of a head: "L1H8" (0-indexed), as in headlab/head_names.py. */
export const headKey = (layer: number, head: number): string => `L${layer}H${head}`;

/** A numpy array sent by `headlab.views.codec.pack_array`: the bytes arrive as a DataView. */
export interface Packed {
  shape: number[];
  dtype: "float32" | "float16" | "uint8";
  buf: DataView | ArrayBuffer | Uint8Array;
  /** uint8 only: per-row maxima (float32 bytes); value = byte / 255 * rowMax. */
  scale?: DataView | ArrayBuffer | Uint8Array;
}

/**
 * One head's attention as sparse rows (headlab/views/sparse.py writes it): per query the fewest
 * keys, strongest first, carrying `mass` of its attention (at most `k_max`). Binary fields are
 * DataViews (live replies put them back from buffers, saved payloads from base64).
 */
export interface PackedSparse {
  n: number;
  key_dtype: "uint16" | "int32";
  weight_dtype: "uint8" | "float16";
  mass: number;
  k_max: number;
  /** mean and smallest share of a query's attention its kept keys carry */
  kept_mean: number;
  kept_min: number;
  /** uint8 [n]: keys kept per query */
  counts: DataView | ArrayBuffer | Uint8Array | null;
  /** uint16 / int32 [nnz]: key indices, query by query */
  keys: DataView | ArrayBuffer | Uint8Array | null;
  /** uint8 [nnz] (byte / 255 * the row's scale) or float16 [nnz] */
  weights: DataView | ArrayBuffer | Uint8Array | null;
  /** float16 [n]: each row's strongest weight (uint8 weights only) */
  scale: DataView | ArrayBuffer | Uint8Array | null;
}

/** The kernel-free payload (application/vnd.headlab.v1+json), as headlab/views/mime.py writes it. */
export interface HeadlabPayload {
  version: number;
  view: "grid" | "attention" | "explorer" | "catalog";
  state: Record<string, unknown>;
  buffers: { path: (string | number)[]; data: string }[];
  budget: Budget;
}

export interface Budget {
  heads_embedded: number;
  heads_total: number;
  /** how to see the heads left out ("" when none were) */
  how: string;
}

/** What the grid's numbers mean (headlab/views/protocol.py SCORE_INFO_KEYS). */
export interface ScoreInfo {
  /** lift, pande, probe, compare, or "" when unknown */
  method: string;
  /** role -> colour-scale kind: lift, share, copying or own (scales.ts) */
  kinds: Record<string, string>;
  /** role -> the role registry's one-line description of its sieve */
  descriptions: Record<string, string>;
  /** how q was adjusted (fdr_bh, fdr_by, holm, bonferroni, none; "" when unknown) */
  correction: string;
  /** the confidence level of the bootstrap CI (0.95) */
  ci_level: number;
}

/** Every head's pattern pooled into S x S blocks (headlab/views/thumbnails.py, THUMB_KEYS). */
export interface PackedThumbs {
  /** [L, H, S, S] */
  shape: number[];
  dtype: "uint8";
  /** byte / 255 = the share of a query block's attention on a key block */
  buf: DataView | ArrayBuffer | Uint8Array;
  /** tokens per block */
  block: number;
}

export type Head = [number, number];
/** [first token, end token (exclusive), label] */
export type Unit = [number, number, string];

/** One catalogue summary, as headlab.catalog.links.summaries() writes it. */
export interface CatalogEntry {
  id: string;
  name: string;
  name_zh?: string;
  zh?: string[];
  aliases?: string[];
  stage?: string;
  stage_name?: string;
  definition?: string;
  detector?: string[];
  papers?: { title?: string; year?: number | string; url?: string; authors?: string; id?: string; role?: string }[];
  known_instances?: { model?: string; hf_id?: string; layer?: number; head?: number; note?: string; source?: string; confidence?: string }[];
}

export interface GridTraits {
  n_layers: number;
  n_heads: number;
  model_name: string;
  roles: string[];
  role: string;
  /** float16 (float32 when n exceeds 2,048) [R, F, L, H]; the fields listed in `fields` (only those with values). */
  grid: Packed | null;
  fields: string[];
  has_stats: boolean;
  alpha: number;
  /** head key ("L1H2") -> catalogue names known for that head */
  matches: Record<string, string[]>;
  /** role -> head key -> catalogue types a significant head of that role is consistent with */
  role_matches: Record<string, Record<string, string[]>>;
  selected: Head | null;
  highlight: Head[];
  highlight_label: string;
  /** roles still being scored in the background */
  pending: string[];
  /** a message for the user ("" when none) */
  notice: string;
  /** what the numbers mean; absent in hosts that do not send it (every role is then "own") */
  score_info: ScoreInfo;
  /** what the cells show: scores, or each head's pattern */
  grid_mode: "scores" | "patterns";
  /** pooled patterns of every head (null: not computed, or no attention) */
  thumbs: PackedThumbs | null;
}

export interface AttentionTraits {
  tokens: string[];
  units: Unit[];
  special: number[];
  heads: Head[];
  mode: "auto" | "arcs" | "lines" | "matrix" | "strip";
  level: "token" | "word";
  top_k: number;
  /** edges below are hidden; null adapts to the input */
  threshold: number | null;
  /** token the heat-strip and windowed arcs centre on; -1: the page picks one */
  focus_token: number;
  /** heat-strip colours: attention from the focused token, or to it */
  direction: "from" | "to";
  /** kernel-free outputs only: head key -> packed sparse pattern */
  preload?: Record<string, PackedSparse>;
  _static?: boolean;
}

export interface ExplorerTraits extends GridTraits, AttentionTraits {
  /** the entries that concern this model (others are fetched on demand) */
  catalog: CatalogEntry[];
  /** every entry as [id, name, stage] */
  catalog_index: [string, string, string][];
  catalog_heads: Record<string, [number, number, string][]>;
  entry: string;
}

export interface CatalogTraits {
  entries: CatalogEntry[];
  query: string;
  stage: string;
  entry: string;
}

export interface AllTraits extends ExplorerTraits {
  _view: "grid" | "attention" | "explorer" | "catalog";
  title: string;
  entries: CatalogEntry[];
  query: string;
  stage: string;
}

type Callback = (...args: any[]) => void;

/** The subset of the anywidget model API used here (Jupyter, marimo and the static host). */
export interface AnyModel<T = AllTraits> {
  get<K extends keyof T>(name: K): T[K];
  set<K extends keyof T>(name: K, value: T[K]): void;
  save_changes(): void;
  on(event: string, cb: Callback): void;
  off(event?: string | null, cb?: Callback | null): void;
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void;
}

/** Page -> kernel: ask for one head's pattern. */
export interface PatternRequest {
  kind: "pattern";
  rid: string;
  layer: number;
  head: number;
  /** the token the page will centre on (-1: none yet); a long head may send the rows around it first */
  near: number;
}

/**
 * Kernel -> page: the pattern as sparse rows; buffers [counts, keys, weights, scale]. A long head
 * that must still be computed may first send only the queries around the request's `near`
 * (`rows` narrower than [0, n]; the other rows keep no key), then the whole head, same `rid`.
 */
export interface PatternReply {
  kind: "pattern";
  rid: string;
  layer: number;
  head: number;
  n: number;
  key_dtype: PackedSparse["key_dtype"];
  weight_dtype: PackedSparse["weight_dtype"];
  mass: number;
  k_max: number;
  kept_mean: number;
  kept_min: number;
  /** [first, end) queries this reply carries: [0, n] for the whole head */
  rows: [number, number];
}

/** Page -> kernel: a catalogue entry the view did not sync. */
export interface EntryRequest {
  kind: "entry";
  rid: string;
  id: string;
}

/** Kernel -> page: that entry. */
export interface EntryReply {
  kind: "entry";
  rid: string;
  entry: CatalogEntry;
}

/** Kernel -> page: the request failed; `message` says why and what to do. */
export interface ErrorReply {
  kind: "error";
  rid: string;
  message: string;
}

export type Reply = PatternReply | EntryReply | ErrorReply;

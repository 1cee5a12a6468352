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
  /** float32 [R, F, L, H]; fields listed in `fields`. */
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
}

export interface AttentionTraits {
  tokens: string[];
  units: Unit[];
  special: number[];
  heads: Head[];
  mode: "auto" | "arcs" | "lines" | "matrix";
  level: "token" | "word";
  top_k: number;
  threshold: number;
  /** kernel-free pages only: head key -> packed [T, T] block */
  preload?: Record<string, Packed>;
  _static?: boolean;
}

export interface ExplorerTraits extends GridTraits, AttentionTraits {
  catalog: CatalogEntry[];
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
}

/** Kernel -> page: the pattern, with its bytes (and uint8 row scales) as buffers. */
export interface PatternReply {
  kind: "pattern";
  rid: string;
  layer: number;
  head: number;
  shape: number[];
  dtype: Packed["dtype"];
}

/** Kernel -> page: the request failed; `message` says why and what to do. */
export interface ErrorReply {
  kind: "error";
  rid: string;
  message: string;
}

export type Reply = PatternReply | ErrorReply;

// On-demand data from the kernel: one head's sparse pattern per request (custom messages with
// binary buffers), and catalogue entries the view did not sync. Replies are matched by request
// id (every view of a model hears every reply). Patterns embedded in a saved output or page
// ("preload") are used first. A long head the kernel must still compute may first send the rows
// around the page's focus (`first`), so the view can draw before the whole head is here.

import { headKey, type AnyModel, type CatalogEntry, type PackedSparse, type Reply } from "./protocol";
import { decodeSparse, type Sparse } from "./sparse";

let counter = 0;
const newRid = () => `${Date.now().toString(36)}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;

type Answer = { msg: Reply; buffers: DataView[] };
type Waiter = { resolve: (r: Answer) => void; reject: (e: Error) => void; early?: (r: Answer) => void; timer: ReturnType<typeof setTimeout> };

/** A pattern reply with only some of its rows (a long head's first reply; the whole head follows). */
const isEarly = (msg: Reply): boolean =>
  msg.kind === "pattern" && Array.isArray(msg.rows) && (msg.rows[0] > 0 || msg.rows[1] < msg.n);

function decodeReply({ msg, buffers }: Answer): Sparse {
  if (msg.kind !== "pattern" || buffers.length < 3) throw new Error("no pattern in the reply");
  const [counts, keys, weights, scale] = buffers;
  const s = decodeSparse({ ...msg, counts, keys, weights, scale: scale ?? null });
  if (isEarly(msg)) s.rows = [msg.rows[0], msg.rows[1]];
  return s;
}

export class PatternStore {
  private cache = new Map<string, Promise<Sparse>>();
  private firsts = new Map<string, Promise<Sparse>>();
  private entries = new Map<string, Promise<CatalogEntry>>();
  private waiting = new Map<string, Waiter>();
  private onMsg = (msg: Reply, buffers: DataView[]) => {
    if (!msg || typeof msg.rid !== "string") return;
    const w = this.waiting.get(msg.rid);
    if (!w) return;
    if (isEarly(msg)) { w.early?.({ msg, buffers: buffers ?? [] }); return; }    // the whole head follows
    this.waiting.delete(msg.rid);
    clearTimeout(w.timer);
    if (msg.kind === "error") w.reject(new Error(msg.message));
    else w.resolve({ msg, buffers: buffers ?? [] });
  };

  constructor(private model: AnyModel, private timeoutMs = 20_000) {
    model.on("msg:custom", this.onMsg);
  }

  dispose(): void {
    this.model.off("msg:custom", this.onMsg);
    for (const w of this.waiting.values()) { clearTimeout(w.timer); w.reject(new Error("view closed")); }
    this.waiting.clear();
  }

  /** Forget cached patterns (the text changed). */
  reset(): void { this.cache.clear(); this.firsts.clear(); }

  /** Whether a head's pattern is already here (embedded, or fetched before). */
  has(layer: number, head: number): boolean {
    const key = headKey(layer, head);
    return this.cache.has(key) || !!(this.model.get("preload") as Record<string, PackedSparse> | undefined)?.[key];
  }

  /**
   * One head's attention as sparse rows (each query's strongest keys). `near`: the token the
   * page will centre on; a long head the kernel must still compute then sends the rows around
   * it first (see `first`).
   */
  get(layer: number, head: number, near = -1): Promise<Sparse> {
    const key = headKey(layer, head);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const pre = (this.model.get("preload") as Record<string, PackedSparse> | undefined)?.[key];
    let p: Promise<Sparse>;
    if (pre) p = new Promise((resolve) => resolve(decodeSparse(pre)));
    else if (this.model.get("_static")) p = Promise.reject(new Error(`${key} is not saved in this output; re-run the cell with a kernel to see it`));
    else {
      let early: (s: Sparse) => void = () => {};
      let fail: (e: unknown) => void = () => {};
      const first = new Promise<Sparse>((resolve, reject) => { early = resolve; fail = reject; });
      first.catch(() => {});                         // a failure is reported through `get`
      this.firsts.set(key, first);
      p = this.request({ kind: "pattern", layer, head, near }, this.timeoutMs, (r) => {
        try { early(decodeReply(r)); } catch { /* the whole head still comes */ }
      }).then(decodeReply);
      // no early rows: the whole head comes first; once it is here, it is what `first` gives
      p.then((s) => { early(s); this.firsts.set(key, p); }, fail);
    }
    p.catch(() => { this.cache.delete(key); this.firsts.delete(key); });   // allow a retry after an error
    this.cache.set(key, p);
    return p;
  }

  /**
   * The first part of a head to arrive: the rows around `near` a long head sends ahead of the
   * rest (a Sparse with `rows` set), or else the whole pattern.
   */
  first(layer: number, head: number): Promise<Sparse> {
    return this.firsts.get(headKey(layer, head)) ?? this.get(layer, head);
  }

  /** A catalogue entry the view did not sync (needs the kernel). */
  entry(id: string): Promise<CatalogEntry> {
    const hit = this.entries.get(id);
    if (hit) return hit;
    const p = this.model.get("_static")
      ? Promise.reject(new Error("this entry is not saved in this output; re-run the cell with a kernel to read it"))
      : this.request({ kind: "entry", id }, Math.min(this.timeoutMs, 8_000)).then(({ msg }) => {
        if (msg.kind !== "entry" || !msg.entry) throw new Error("no entry in the reply");
        return msg.entry;
      });
    p.catch(() => this.entries.delete(id));
    this.entries.set(id, p);
    return p;
  }

  private request(content: Record<string, unknown>, timeoutMs: number, early?: (r: Answer) => void): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const rid = newRid();
      const timer = setTimeout(() => {
        this.waiting.delete(rid);
        reject(new Error("no reply from the kernel (is it running? re-run the cell)"));
      }, timeoutMs);
      this.waiting.set(rid, { resolve, reject, early, timer });
      this.model.send({ ...content, rid });
    });
  }
}

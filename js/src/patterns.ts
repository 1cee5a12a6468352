// On-demand data from the kernel: one head's sparse pattern per request (custom messages with
// binary buffers), and catalogue entries the view did not sync. Replies are matched by request
// id (every view of a model hears every reply). Patterns embedded in a saved output or page
// ("preload") are used first.

import { headKey, type AnyModel, type CatalogEntry, type PackedSparse, type Reply } from "./protocol";
import { decodeSparse, type Sparse } from "./sparse";

let counter = 0;
const newRid = () => `${Date.now().toString(36)}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;

type Waiter = { resolve: (r: { msg: Reply; buffers: DataView[] }) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> };

export class PatternStore {
  private cache = new Map<string, Promise<Sparse>>();
  private entries = new Map<string, Promise<CatalogEntry>>();
  private waiting = new Map<string, Waiter>();
  private onMsg = (msg: Reply, buffers: DataView[]) => {
    if (!msg || typeof msg.rid !== "string") return;
    const w = this.waiting.get(msg.rid);
    if (!w) return;
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
  reset(): void { this.cache.clear(); }

  /** Whether a head's pattern is already here (embedded, or fetched before). */
  has(layer: number, head: number): boolean {
    const key = headKey(layer, head);
    return this.cache.has(key) || !!(this.model.get("preload") as Record<string, PackedSparse> | undefined)?.[key];
  }

  /** One head's attention as sparse rows (each query's strongest keys). */
  get(layer: number, head: number): Promise<Sparse> {
    const key = headKey(layer, head);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const pre = (this.model.get("preload") as Record<string, PackedSparse> | undefined)?.[key];
    let p: Promise<Sparse>;
    if (pre) p = new Promise((resolve) => resolve(decodeSparse(pre)));
    else if (this.model.get("_static")) p = Promise.reject(new Error(`${key} is not saved in this output; re-run the cell with a kernel to see it`));
    else p = this.request({ kind: "pattern", layer, head }, this.timeoutMs).then(({ msg, buffers }) => {
      if (msg.kind !== "pattern" || buffers.length < 3) throw new Error("no pattern in the reply");
      const [counts, keys, weights, scale] = buffers;
      return decodeSparse({ ...msg, counts, keys, weights, scale: scale ?? null });
    });
    p.catch(() => this.cache.delete(key));   // allow a retry after an error
    this.cache.set(key, p);
    return p;
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

  private request(content: Record<string, unknown>, timeoutMs: number): Promise<{ msg: Reply; buffers: DataView[] }> {
    return new Promise((resolve, reject) => {
      const rid = newRid();
      const timer = setTimeout(() => {
        this.waiting.delete(rid);
        reject(new Error("no reply from the kernel (is it running? re-run the cell)"));
      }, timeoutMs);
      this.waiting.set(rid, { resolve, reject, timer });
      this.model.send({ ...content, rid });
    });
  }
}

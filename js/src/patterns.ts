// On-demand attention patterns: one head's [T, T] block per request, through custom messages
// with binary buffers; replies are matched by request id (every view of a model hears every
// reply). Blocks embedded by a static export ("preload") are used first.

import { decodePacked } from "./codec";
import { headKey, type AnyModel, type Packed, type PatternRequest, type Reply } from "./protocol";

export interface Pattern { n: number; data: Float32Array }

let counter = 0;
const newRid = () => `${Date.now().toString(36)}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;

export class PatternStore {
  private cache = new Map<string, Promise<Pattern>>();
  private waiting = new Map<string, { resolve: (p: Pattern) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }>();
  private onMsg = (msg: Reply, buffers: DataView[]) => {
    if (!msg || typeof msg.rid !== "string") return;
    const w = this.waiting.get(msg.rid);
    if (!w) return;
    this.waiting.delete(msg.rid);
    clearTimeout(w.timer);
    if (msg.kind === "pattern" && buffers?.length) {
      try {
        const p: Packed = { shape: msg.shape, dtype: msg.dtype, buf: buffers[0], scale: buffers[1] };
        w.resolve({ n: msg.shape[0], data: decodePacked(p) });
      } catch (e) { w.reject(e as Error); }
    } else w.reject(new Error(msg.kind === "error" ? msg.message : "no pattern in reply"));
  };

  constructor(private model: AnyModel, private timeoutMs = 20_000) {
    model.on("msg:custom", this.onMsg);
  }

  dispose(): void {
    this.model.off("msg:custom", this.onMsg);
    for (const w of this.waiting.values()) { clearTimeout(w.timer); w.reject(new Error("view closed")); }
    this.waiting.clear();
  }

  /** Forget cached blocks (the text changed). */
  reset(): void { this.cache.clear(); }

  /** Token-level [T, T] attention of one head. */
  get(layer: number, head: number): Promise<Pattern> {
    const key = headKey(layer, head);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const pre = (this.model.get("preload") as Record<string, Packed> | undefined)?.[key];
    let p: Promise<Pattern>;
    if (pre) p = Promise.resolve({ n: pre.shape[0], data: decodePacked(pre) });
    else if (this.model.get("_static")) p = Promise.reject(new Error(`${key} is not embedded in this page`));
    else p = this.request(layer, head);
    p.catch(() => this.cache.delete(key));   // allow a retry after an error
    this.cache.set(key, p);
    return p;
  }

  private request(layer: number, head: number): Promise<Pattern> {
    return new Promise((resolve, reject) => {
      const rid = newRid();
      const timer = setTimeout(() => {
        this.waiting.delete(rid);
        reject(new Error("no reply from the kernel (is it running? re-run the cell)"));
      }, this.timeoutMs);
      this.waiting.set(rid, { resolve, reject, timer });
      const request: PatternRequest = { kind: "pattern", rid, layer, head };
      this.model.send(request);
    });
  }
}

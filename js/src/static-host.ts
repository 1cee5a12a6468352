// Kernel-free host for pages written by `widget.to_html()`: reads an embedded payload
// ({esm, state, buffers}), restores binary buffers as DataViews, and runs the widget module
// against a minimal model (get/set/on/off; save_changes does nothing, send only reaches an
// optional handler). The JupyterLab extension (js/lab) renders saved outputs with the same model.

import { base64ToDataView } from "./codec";

type Fn = (...a: unknown[]) => void;
interface Payload {
  esm: string;
  state: Record<string, unknown>;
  buffers: { path: (string | number)[]; data: string }[];
}

export function setPath(obj: any, path: (string | number)[], value: unknown): void {
  let o = obj;
  for (let i = 0; i < path.length - 1; i++) o = o[path[i]];
  o[path[path.length - 1]] = value;
}

/**
 * Answers what a view sends (pattern and entry requests) in place of a kernel. `reply` delivers a
 * custom message to the view's `msg:custom` listeners, asynchronously as a kernel reply would.
 */
export type SendHandler = (content: unknown, reply: (msg: unknown, buffers?: unknown[]) => void) => void;

/** A kernel-free model over `state`; without `onSend`, whatever a view sends goes nowhere. */
export function staticModel(state: Record<string, unknown>, onSend?: SendHandler) {
  const listeners = new Map<string, Set<Fn>>();
  const emit = (ev: string, ...args: unknown[]) => listeners.get(ev)?.forEach((f) => f(...args));
  const reply = (msg: unknown, buffers: unknown[] = []) => { queueMicrotask(() => emit("msg:custom", msg, buffers)); };
  return {
    get: (k: string) => state[k],
    set: (k: string, v: unknown) => {
      if (state[k] === v) return;
      state[k] = v;
      emit(`change:${k}`, v);
      emit("change", v);
    },
    on: (ev: string, f: Fn) => { if (!listeners.has(ev)) listeners.set(ev, new Set()); listeners.get(ev)!.add(f); },
    off: (ev?: string | null, f?: Fn | null) => {
      if (!ev) listeners.clear();
      else if (!f) listeners.delete(ev);
      else listeners.get(ev)?.delete(f);
    },
    save_changes() {},
    send(content?: unknown) { onSend?.(content, reply); },
  };
}

export async function mount(script: HTMLScriptElement): Promise<void> {
  const payload = JSON.parse(script.textContent ?? "{}") as Payload;
  const state = payload.state;
  for (const b of payload.buffers) setPath(state, b.path, base64ToDataView(b.data));
  const model = staticModel(state);
  const url = URL.createObjectURL(new Blob([payload.esm], { type: "text/javascript" }));
  // The comments keep bundlers (vite, and rspack in the JupyterLab extension) from resolving the URL.
  let widget: any = (await import(/* @vite-ignore */ /* webpackIgnore: true */ url)).default;
  if (typeof widget === "function") widget = await widget();
  const el = document.createElement("div");
  script.insertAdjacentElement("afterend", el);
  const ctl = new AbortController();
  await widget.initialize?.({ model, signal: ctl.signal });
  await widget.render({ model, el, signal: ctl.signal });
  el.setAttribute("data-headlab-ready", "true");
}


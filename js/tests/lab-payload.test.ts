// The JupyterLab extension's reading of saved outputs (js/lab/src/payload.ts), with the views'
// own PatternStore over the kernel-free model.
import { describe, expect, it } from "vitest";
import { PatternStore } from "../src/patterns";
import type { AnyModel } from "../src/protocol";
import { staticModel } from "../src/static-host";
import { PayloadError, decodePayload, missingHeadMessage, staticReplies, placeAt } from "../lab/src/payload";

const b64 = (bytes: number[]) => btoa(String.fromCharCode(...bytes));
const f32 = (vals: number[]) => b64(Array.from(new Uint8Array(new Float32Array(vals).buffer)));

function payload(extra: Record<string, unknown> = {}) {
  return {
    version: 1,
    view: "explorer",
    state: {
      _view: "explorer", title: "t", _static: true,
      grid: { shape: [1, 1, 1, 2], dtype: "float32", buf: null },
      preload: { L0H1: { shape: [2, 2], dtype: "float32", buf: null } },
    },
    buffers: [
      { path: ["grid", "buf"], data: f32([0.25, 0.5]) },
      { path: ["preload", "L0H1", "buf"], data: f32([1, 0, 0.5, 0.5]) },
    ],
    ...extra,
  };
}

describe("decodePayload", () => {
  it("puts every buffer at its path as bytes, in a copy of the state", () => {
    const raw = payload();
    const { state, view, notes } = decodePayload(raw);
    expect(view).toBe("explorer");
    expect(notes).toEqual([]);
    const grid = state.grid as { buf: DataView };
    expect(grid.buf).toBeInstanceOf(DataView);
    expect(grid.buf.getFloat32(4, true)).toBe(0.5);
    expect(raw.state.grid.buf).toBeNull();                   // the output's own data is untouched
    expect(state._static).toBe(false);                       // missing heads go through `send`
  });
  it("takes the view from the payload when the state lacks it, and a top-level preload", () => {
    const raw = payload();
    const { _view, preload, ...rest } = raw.state;
    const { state, view } = decodePayload({ ...raw, state: rest, preload });
    expect(view).toBe("explorer");
    expect(state._view).toBe("explorer");
    expect(((state.preload as any).L0H1.buf as DataView).getFloat32(8, true)).toBe(0.5);
    expect(_view).toBe("explorer");
  });
  it("refuses what cannot be drawn", () => {
    expect(() => decodePayload(null)).toThrow(PayloadError);
    expect(() => decodePayload({ version: 1 })).toThrow(/no state/);
    expect(() => decodePayload({ state: { title: "x" } })).toThrow(/which view/);
  });
  it("notes unreadable buffers and a newer format, and still draws", () => {
    const { notes } = decodePayload(payload({ version: 2, buffers: [{ path: ["grid", "buf"], data: "%%%" }, { path: ["nope", "buf"], data: f32([1]) }] }));
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/newer headlab/);
    expect(notes[1]).toMatch(/^2 binary part/);
  });
});

describe("placeAt", () => {
  it("walks own objects and arrays only", () => {
    const st: any = { a: { b: null }, list: [{ x: null }] };
    expect(placeAt(st, ["a", "b"], 1)).toBe(true);
    expect(placeAt(st, ["list", 0, "x"], 2)).toBe(true);
    expect(st.a.b).toBe(1);
    expect(st.list[0].x).toBe(2);
    expect(placeAt(st, ["list", 5], 3)).toBe(false);         // past the end
    expect(placeAt(st, ["list", 1.5], 3)).toBe(false);
    expect(placeAt(st, ["missing", "b"], 3)).toBe(false);
    expect(placeAt(st, "a.b", 3)).toBe(false);
    expect(placeAt(st, [], 3)).toBe(false);
  });
  it("never reaches a prototype", () => {
    const st: any = JSON.parse('{"a": {}}');
    for (const path of [["__proto__", "polluted"], ["a", "__proto__", "polluted"], ["constructor", "prototype", "polluted"], ["toString", "x"]])
      expect(placeAt(st, path, "yes")).toBe(false);
    expect(({} as any).polluted).toBeUndefined();
  });
});

describe("the stand-in for the kernel", () => {
  it("says which head is missing, and how to get it", () => {
    const how = "2 of 72 heads are saved in this output (budget 1 MB). Re-run the cell with a kernel to see the others.";
    expect(missingHeadMessage(3, 5, { heads_embedded: 2, heads_total: 72, how })).toBe(`L3H5 is not saved in this output. ${how}`);
    expect(missingHeadMessage(3, 5, { heads_embedded: 8, heads_total: 72 }))
      .toBe("L3H5 is not saved in this output (8 of 72 heads are). Re-run the cell with a running kernel to load this head.");
    expect(missingHeadMessage(0, 1, null)).toBe("L0H1 is not saved in this output. Re-run the cell with a running kernel to load this head.");
    // the one head name everywhere (headlab/head_names.py): never "L0.1" or "0.1"
    for (const [l, h] of [[0, 1], [11, 10], [3, 0]])
      expect(missingHeadMessage(l, h, null)).toMatch(new RegExp(`^L${l}H${h} is not saved`));
    expect(missingHeadMessage(0, 1, null)).not.toMatch(/\d\.\d/);
    expect(missingHeadMessage("0", 1, null)).toMatch(/^This head is not saved/);
  });
  it("answers the views' own pattern requests at once (PatternStore over the static model)", async () => {
    const { state, budget } = decodePayload(payload({ budget: { heads_embedded: 1, heads_total: 2, how: "Re-run it." } }));
    const model = staticModel(state, staticReplies(budget)) as unknown as AnyModel;
    const store = new PatternStore(model, 60_000);
    const t0 = Date.now();
    await expect(store.get(0, 0)).rejects.toThrow("L0H0 is not saved in this output. Re-run it.");
    expect(Date.now() - t0).toBeLessThan(30_000);          // a reply, not the store's timeout
    store.dispose();
  });
  it("answers entry requests from the shipped catalogue, and everything else with an error", async () => {
    const replies: unknown[] = [];
    const handle = staticReplies(null, async (id) => (id === "induction_head" ? { id, name: "Induction Head" } : null));
    const send = (m: unknown) => new Promise<void>((done) => handle(m, (r) => { replies.push(r); done(); }));
    await send({ kind: "entry", rid: "a", id: "induction_head" });
    await send({ kind: "entry", rid: "b", id: "nope" });
    await send({ kind: "other", rid: "c" });
    await send({ kind: "pattern", rid: "d", layer: 1, head: 2 });
    handle(null, (r) => replies.push(r));
    handle({ kind: "pattern", layer: 1, head: 2 }, (r) => replies.push(r));   // no rid: nobody waits
    expect(replies).toEqual([
      { kind: "entry", rid: "a", entry: { id: "induction_head", name: "Induction Head" } },
      { kind: "error", rid: "b", message: '"nope" is not in the catalogue shipped with headlab\'s extension.' },
      { kind: "error", rid: "c", message: "This needs the kernel that made the output: re-run the cell." },
      { kind: "error", rid: "d", message: missingHeadMessage(1, 2, null) },
    ]);
  });
  it("answers every entry request with an error when it cannot give the entry, never with silence", async () => {
    const ask = (handle: ReturnType<typeof staticReplies>, m: unknown) =>
      new Promise<unknown>((done, fail) => { handle(m, done); setTimeout(() => fail(new Error("no reply")), 1000); });
    const err = (rid: string, message: string) => ({ kind: "error", rid, message });
    // no catalogue to look in (a host without the shipped catalogue)
    expect(await ask(staticReplies(null), { kind: "entry", rid: "a", id: "induction_head" }))
      .toEqual(err("a", '"induction_head" is not saved in this output; re-run the cell with a kernel to read it.'));
    // a request that names no entry
    const any = staticReplies(null, async () => ({ id: "x" }));
    expect(await ask(any, { kind: "entry", rid: "b" })).toEqual(err("b", "This catalogue request names no entry."));
    expect(await ask(any, { kind: "entry", rid: "c", id: 7 })).toEqual(err("c", "This catalogue request names no entry."));
    // the catalogue cannot be read: rejected, or thrown before any promise
    expect(await ask(staticReplies(null, () => Promise.reject(new Error("chunk failed"))), { kind: "entry", rid: "d", id: "x" }))
      .toEqual(err("d", "The catalogue could not be read: chunk failed"));
    expect(await ask(staticReplies(null, () => { throw new Error("boom"); }), { kind: "entry", rid: "e", id: "x" }))
      .toEqual(err("e", "The catalogue could not be read: boom"));
  });
  it("lets a saved view's entry request fail at once, not after the kernel timeout", async () => {
    const { state, budget } = decodePayload(payload());
    const model = staticModel(state, staticReplies(budget, async () => null)) as unknown as AnyModel;
    const store = new PatternStore(model, 60_000);
    const t0 = Date.now();
    await expect(store.entry("no_such_type")).rejects.toThrow('"no_such_type" is not in the catalogue shipped with headlab\'s extension.');
    expect(Date.now() - t0).toBeLessThan(5_000);          // the store would wait 8 s for a kernel
    store.dispose();
  });
});

// Live widget or saved view (js/lab/src/comms.ts): which widget comms the kernel holds, from iopub
// and one comm_info request, and what a renderer does when an output is rendered (again).
import { describe, expect, it } from "vitest";
import { type CommsSession, KernelWidgetComms, type Shown, chooseView } from "../lab/src/comms";

type Slot = (sender: unknown, args: any) => void;

/** A signal as Lumino's: connect / disconnect with a `this`, emit to every slot. */
class FakeSignal {
  slots: [Slot, unknown][] = [];
  connect(slot: Slot, thisArg?: unknown) { this.slots.push([slot, thisArg]); return true; }
  disconnect(slot: Slot, thisArg?: unknown) {
    const n = this.slots.length;
    this.slots = this.slots.filter(([s, t]) => s !== slot || t !== thisArg);
    return this.slots.length < n;
  }
  emit(args: unknown) { for (const [s, t] of [...this.slots]) s.call(t, null, args); }
}

/** A session whose kernel answers comm_info with `comms` (or never, until `answer` is called). */
function fakeSession(comms: string[], { manual = false } = {}) {
  const iopub = new FakeSignal(), kernelChanged = new FakeSignal(), statusChanged = new FakeSignal();
  let requests = 0;
  let answer: (ids: string[]) => void = () => {};
  const kernel = {
    requestCommInfo: () => {
      requests++;
      const reply = (ids: string[]) => ({ content: { status: "ok", comms: Object.fromEntries(ids.map((i) => [i, { target_name: "jupyter.widget" }])) } });
      return manual ? new Promise((done) => { answer = (ids) => done(reply(ids)); }) : Promise.resolve(reply(comms));
    },
  };
  const session = { iopubMessage: iopub, kernelChanged, statusChanged, ready: Promise.resolve(), session: { kernel } } as unknown as CommsSession;
  const msg = (msg_type: string, content: Record<string, unknown>) => iopub.emit({ header: { msg_type }, content });
  return {
    session, iopub, kernelChanged, statusChanged, requests: () => requests, answer: (ids: string[]) => answer(ids),
    open: (id: string) => msg("comm_open", { comm_id: id, target_name: "jupyter.widget" }),
    close: (id: string) => msg("comm_close", { comm_id: id }),
  };
}

describe("which widgets the kernel holds", () => {
  it("knows comms it saw open and close on iopub", async () => {
    const f = fakeSession([]);
    const c = new KernelWidgetComms(f.session);
    f.open("w1");
    f.iopub.emit({ header: { msg_type: "comm_open" }, content: { comm_id: "other", target_name: "not.a.widget" } });
    expect(c.knownLive("w1")).toBe(true);
    expect(c.knownLive("other")).toBe(false);
    expect(await c.isLive("w1")).toBe(true);
    f.close("w1");
    expect(c.knownLive("w1")).toBe(false);
    expect(await c.isLive("w1")).toBe(false);
    expect(f.requests()).toBe(0);                        // iopub was enough
  });
  it("asks the kernel once for comms older than the page, and then knows them without asking", async () => {
    const f = fakeSession(["old1", "old2"]);
    const c = new KernelWidgetComms(f.session);
    expect(c.knownLive("old1")).toBe(false);             // not asked yet
    expect(await c.isLive("old1")).toBe(true);
    expect(await c.isLive("gone")).toBe(false);
    expect(f.requests()).toBe(1);
    // a re-run that displays the same widget again: live at once (no saved-view flash)
    expect(c.knownLive("old2")).toBe(true);
    f.close("old2");
    expect(c.knownLive("old2")).toBe(false);
    expect(await c.isLive("old2")).toBe(false);
  });
  it("forgets everything when the kernel restarts or changes, and drops a late answer of the old kernel", async () => {
    const f = fakeSession([], { manual: true });
    const c = new KernelWidgetComms(f.session);
    f.open("w1");
    const pending = c.isLive("old");
    for (let i = 0; i < 20 && f.requests() === 0; i++) await Promise.resolve();
    expect(f.requests()).toBe(1);                        // comm_info asked, not answered yet
    f.statusChanged.emit("restarting");
    expect(c.knownLive("w1")).toBe(false);
    f.answer(["old"]);                                   // the old kernel's list arrives after the restart
    expect(await pending).toBe(false);                   // the new kernel holds none of the old comms
    expect(c.knownLive("old")).toBe(false);
    f.open("w2");
    f.kernelChanged.emit({});
    expect(c.knownLive("w2")).toBe(false);
  });
  it("lets go of the session's signals when disposed", () => {
    const f = fakeSession([]);
    const c = new KernelWidgetComms(f.session);
    expect(f.iopub.slots).toHaveLength(1);
    c.dispose();
    c.dispose();
    expect([f.iopub.slots, f.kernelChanged.slots, f.statusChanged.slots].map((s) => s.length)).toEqual([0, 0, 0]);
  });
});

describe("what a renderer shows", () => {
  const live = (ids: string[]) => ({ knownLive: (id: string) => ids.includes(id) });
  const nothing: Shown = { source: null, modelId: null };
  const showsLive = (modelId: string): Shown => ({ source: "live", modelId });

  it("keeps the live view when the output is rendered again with the same model id", () => {
    expect(chooseView("w1", showsLive("w1"), live(["w1"]), true)).toBe("keep");
    expect(chooseView("w1", showsLive("w1"), live(["w1"]), false)).toBe("keep");   // the renderer is not needed
  });
  it("does not keep a live view of another widget, or of one the kernel no longer holds", () => {
    expect(chooseView("w2", showsLive("w1"), live(["w1", "w2"]), true)).toBe("live");
    expect(chooseView("w1", showsLive("w1"), live([]), true)).toBe("check");        // closed, or the kernel restarted
    expect(chooseView("w1", { source: "saved", modelId: null }, live(["w1"]), true)).toBe("live");
  });
  it("goes live at once only when the kernel is known to hold it and the widget renderer is ready", () => {
    expect(chooseView("w1", nothing, live(["w1"]), true)).toBe("live");
    expect(chooseView("w1", nothing, live(["w1"]), false)).toBe("check");
    expect(chooseView("w1", nothing, live([]), true)).toBe("check");
  });
  it("shows the saved view when there is nothing to go live with", () => {
    expect(chooseView(null, nothing, live(["w1"]), true)).toBe("saved");           // no model id (or untrusted)
    expect(chooseView("w1", showsLive("w1"), null, true)).toBe("saved");            // no kernel context
  });
});

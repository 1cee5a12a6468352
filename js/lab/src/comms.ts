// Which widget models the kernel holds, and what an output renderer should show. Free of the DOM
// and of JupyterLab's runtime (types and constants only), so js/tests/lab-live.test.ts runs it
// against a fake session; live.ts does the drawing.
//
// "The kernel holds it" is decided from the kernel, not from the widget manager's cache (which,
// with saveState on, also holds dead copies restored from notebook metadata):
//   * widget comms opened while the notebook is open are seen on iopub (comm_open arrives and is
//     handled before the display_data that shows the widget);
//   * for comms older than the page (a reload with a running kernel), one comm_info request per
//     kernel lists the widget comms it holds. Once answered, that list counts as known too, so a
//     cell re-run that displays the same widget again goes live at once, with no saved-view flash.

import type { ISessionContext } from "@jupyterlab/apputils";
import type { Kernel, KernelMessage } from "@jupyterlab/services";

import { WIDGET_COMM_TARGET } from "./constants";

/** The part of ISessionContext used here (the tests give a fake). */
export type CommsSession = Pick<ISessionContext, "iopubMessage" | "kernelChanged" | "statusChanged" | "ready" | "session">;

/** Widget comms of the kernel behind one notebook or console. */
export class KernelWidgetComms {
  private opened = new Set<string>();
  private closed = new Set<string>();
  private snapshot: Promise<Set<string>> | null = null;
  /** The kernel's answer to comm_info, once it has arrived (null before, and after a restart). */
  private listed: Set<string> | null = null;
  /** Bumped when the kernel changes, so a late comm_info answer of the old kernel is dropped. */
  private generation = 0;
  private disposed = false;

  constructor(private readonly session: CommsSession) {
    session.iopubMessage.connect(this.onIOPub, this);
    session.kernelChanged.connect(this.forget, this);
    session.statusChanged.connect(this.onStatus, this);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.session.iopubMessage.disconnect(this.onIOPub, this);
    this.session.kernelChanged.disconnect(this.forget, this);
    this.session.statusChanged.disconnect(this.onStatus, this);
  }

  private onIOPub(_: unknown, msg: KernelMessage.IMessage): void {
    const type = msg.header.msg_type;
    const content = msg.content as { comm_id?: string; target_name?: string };
    if (type === "comm_open" && content.target_name === WIDGET_COMM_TARGET && content.comm_id) {
      this.opened.add(content.comm_id);
      this.closed.delete(content.comm_id);
    } else if (type === "comm_close" && content.comm_id) {
      this.opened.delete(content.comm_id);
      this.closed.add(content.comm_id);
    }
  }

  private onStatus(_: unknown, status: Kernel.Status): void {
    if (status === "restarting" || status === "autorestarting" || status === "dead") this.forget();
  }

  /** A new or restarted kernel holds none of the old comms. */
  private forget(): void {
    this.opened.clear();
    this.closed.clear();
    this.snapshot = null;
    this.listed = null;
    this.generation++;
  }

  /** Known to be open now, without asking the kernel (seen opening, or listed by the kernel and not closed since). */
  knownLive(modelId: string): boolean {
    return this.opened.has(modelId) || (!!this.listed?.has(modelId) && !this.closed.has(modelId));
  }

  /** Whether the kernel holds the widget; false without a kernel. */
  async isLive(modelId: string): Promise<boolean> {
    if (this.knownLive(modelId)) return true;
    if (this.closed.has(modelId)) return false;
    await this.session.ready;
    const kernel = this.session.session?.kernel;
    if (!kernel || this.disposed) return false;
    const gen = this.generation;
    if (!this.snapshot) {
      this.snapshot = kernel.requestCommInfo({ target_name: WIDGET_COMM_TARGET }).then(
        (reply) => new Set(reply.content.status === "ok" ? Object.keys(reply.content.comms) : []),
        () => new Set<string>(),
      );
      this.snapshot.then((ids) => { if (gen === this.generation) this.listed = ids; });
    }
    const ids = await this.snapshot;
    if (gen !== this.generation) return false;      // the kernel restarted meanwhile: it holds none of them
    return !this.closed.has(modelId) && (ids.has(modelId) || this.opened.has(modelId));
  }
}

/** What a renderer shows now: the live widget of `modelId`, the saved view, or nothing yet. */
export interface Shown {
  source: "live" | "saved" | null;
  modelId: string | null;
}

/**
 * What to do with an output:
 *  * "keep": the renderer already shows this very widget live (the output was re-rendered: an
 *    updated display, a trust change); rebuilding it would drop the view and flash the saved one;
 *  * "live": the kernel is known to hold the widget and the widget renderer is ready;
 *  * "check": show the saved view, then ask the kernel and go live if it holds the widget;
 *  * "saved": no widget to go live with (no kernel context, untrusted, or no model id).
 */
export function chooseView(modelId: string | null, shown: Shown, comms: Pick<KernelWidgetComms, "knownLive"> | null,
                           factoryBound: boolean): "keep" | "live" | "check" | "saved" {
  if (!modelId || !comms) return "saved";
  const live = comms.knownLive(modelId);       // false again once the comm closed or the kernel restarted
  if (live && shown.source === "live" && shown.modelId === modelId) return "keep";
  if (live && factoryBound) return "live";
  return "check";
}

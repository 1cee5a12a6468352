// Live widget or saved view? The renderer of application/vnd.headlab.v1+json outranks the
// widget-view renderer, so JupyterLab always hands headlab outputs to it. It draws the saved
// payload (no kernel needed) unless the output also names a widget model that the notebook's
// kernel holds right now; then it hands the output to the notebook's own widget-view renderer,
// which gives the live anywidget with two-way sync exactly as without this extension.
//
// "The kernel holds it" is decided from the kernel, not from the widget manager's cache (which,
// with saveState on, also holds dead copies restored from notebook metadata):
//   * widget comms opened while the notebook is open are seen on iopub (comm_open arrives and is
//     handled before the display_data that shows the widget, so no flash of the saved view);
//   * for outputs older than the page (a reload with a running kernel), one comm_info request
//     per kernel lists the widget comms it holds; the saved view shows until the answer arrives.

import type { ISessionContext } from "@jupyterlab/apputils";
import type { IRenderMimeRegistry } from "@jupyterlab/rendermime";
import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import type { Kernel, KernelMessage } from "@jupyterlab/services";
import { Panel } from "@lumino/widgets";

import { HEADLAB_MIME, WIDGET_COMM_TARGET, WIDGET_MIME } from "./constants";
import { StaticHeadlabView } from "./static-output";

/** Widget comms of the kernel behind one notebook or console. */
export class KernelWidgetComms {
  private opened = new Set<string>();
  private closed = new Set<string>();
  private snapshot: Promise<Set<string>> | null = null;
  private disposed = false;

  constructor(private readonly session: ISessionContext) {
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

  private onIOPub(_: ISessionContext, msg: KernelMessage.IMessage): void {
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

  private onStatus(_: ISessionContext, status: Kernel.Status): void {
    if (status === "restarting" || status === "autorestarting" || status === "dead") this.forget();
  }

  /** A new or restarted kernel holds none of the old comms. */
  private forget(): void {
    this.opened.clear();
    this.closed.clear();
    this.snapshot = null;
  }

  /** Known to be open now, without asking the kernel. */
  knownLive(modelId: string): boolean {
    return this.opened.has(modelId);
  }

  /** Whether the kernel holds the widget; false without a kernel. */
  async isLive(modelId: string): Promise<boolean> {
    if (this.opened.has(modelId)) return true;
    if (this.closed.has(modelId)) return false;
    await this.session.ready;
    const kernel = this.session.session?.kernel;
    if (!kernel || this.disposed) return false;
    if (!this.snapshot) {
      this.snapshot = kernel.requestCommInfo({ target_name: WIDGET_COMM_TARGET }).then(
        (reply) => new Set(reply.content.status === "ok" ? Object.keys(reply.content.comms) : []),
        () => new Set<string>(),
      );
    }
    const ids = await this.snapshot;
    return !this.closed.has(modelId) && (ids.has(modelId) || this.opened.has(modelId));
  }
}

/** What a renderer inside a notebook or console knows about its surroundings. */
export interface LiveContext {
  /** The notebook's (or console's) registry: holds its widget manager's widget-view renderer. */
  rendermime: IRenderMimeRegistry;
  /** The application registry: holds jupyterlab_widgets' placeholder renderer. */
  root: IRenderMimeRegistry;
  comms: KernelWidgetComms;
}

const WAIT_FOR_MANAGER_MS = 60_000;

/**
 * Whether the notebook's widget-view factory is bound to its widget manager. jupyterlab_widgets
 * first puts a placeholder factory (never bound to a manager) into the application registry,
 * which every notebook copies, and replaces it in the notebook's registry once the kernel is
 * ready. So "different from the application's" means "bound".
 */
function widgetFactoryBound(ctx: LiveContext): boolean {
  const mine = ctx.rendermime.getFactory(WIDGET_MIME);
  return !!mine && mine !== ctx.root.getFactory(WIDGET_MIME);
}

async function waitForBoundFactory(ctx: LiveContext, alive: () => boolean): Promise<boolean> {
  const deadline = Date.now() + WAIT_FOR_MANAGER_MS;
  while (alive() && Date.now() < deadline) {
    if (widgetFactoryBound(ctx)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** Renderer of headlab outputs: the live widget when the kernel holds it, else the saved view. */
export class HeadlabOutputRenderer extends Panel implements IRenderMime.IRenderer {
  private seq = 0;

  constructor(private readonly ctx: LiveContext | null) {
    super();
    this.addClass("headlab-lab-output");
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const my = ++this.seq;
    const alive = () => my === this.seq && !this.isDisposed;
    const ref = model.data[WIDGET_MIME] as { model_id?: unknown } | undefined;
    const modelId = typeof ref?.model_id === "string" && ref.model_id ? ref.model_id : null;
    // The widget renderer runs the kernel's code: only for trusted outputs, as JupyterLab does.
    const ctx = modelId && model.trusted ? this.ctx : null;
    if (ctx && modelId && ctx.comms.knownLive(modelId) && widgetFactoryBound(ctx)) {
      await this.showLive(model, ctx);          // just displayed by a running cell
      return;
    }
    this.showStatic(model.data[HEADLAB_MIME]);
    if (ctx && modelId && (await ctx.comms.isLive(modelId)) && alive() && (await waitForBoundFactory(ctx, alive)))
      await this.showLive(model, ctx);          // an older output whose widget the kernel still holds
  }

  private clearChildren(): void {
    for (const w of [...this.widgets]) w.dispose();
  }

  private showStatic(payload: unknown): void {
    this.clearChildren();
    this.node.dataset.headlabSource = "saved";
    this.addWidget(new StaticHeadlabView(payload));
  }

  private async showLive(model: IRenderMime.IMimeModel, ctx: LiveContext): Promise<void> {
    const renderer = ctx.rendermime.createRenderer(WIDGET_MIME);
    this.clearChildren();
    this.node.dataset.headlabSource = "live";
    this.addWidget(renderer);
    await renderer.renderModel(model);
  }

  dispose(): void {
    this.seq++;
    super.dispose();
  }
}

/** Factory for the application registry (no kernel context: always the saved view). */
export function outputRendererFactory(ctx: LiveContext | null = null): IRenderMime.IRendererFactory {
  return {
    safe: true,
    mimeTypes: [HEADLAB_MIME],
    createRenderer: () => new HeadlabOutputRenderer(ctx),
  };
}

// Live widget or saved view? The renderer of application/vnd.headlab.v1+json outranks the
// widget-view renderer, so JupyterLab always hands headlab outputs to it. It draws the saved
// payload (no kernel needed) unless the output also names a widget model that the notebook's
// kernel holds right now; then it hands the output to the notebook's own widget-view renderer,
// which gives the live anywidget with two-way sync exactly as without this extension.
//
// "The kernel holds it" is decided from the kernel (comms.ts): comm_open / comm_close seen on
// iopub, and for comms older than the page one comm_info request per kernel; the saved view shows
// until that answer arrives. An output re-rendered with the model id it already shows live (an
// updated display, a trust change) keeps its live view instead of being rebuilt.

import type { IRenderMimeRegistry } from "@jupyterlab/rendermime";
import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import { Panel } from "@lumino/widgets";

import { KernelWidgetComms, chooseView, type Shown } from "./comms";
import { HEADLAB_MIME, WIDGET_MIME } from "./constants";
import { StaticHeadlabView } from "./static-output";

export { KernelWidgetComms };

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
  private shown: Shown = { source: null, modelId: null };

  constructor(private readonly ctx: LiveContext | null) {
    super();
    this.addClass("headlab-lab-output");
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const my = ++this.seq;
    const alive = () => my === this.seq && !this.isDisposed;
    const ref = model.data[WIDGET_MIME] as { model_id?: unknown } | undefined;
    const id = typeof ref?.model_id === "string" && ref.model_id ? ref.model_id : null;
    // The widget renderer runs the kernel's code: only for trusted outputs, as JupyterLab does.
    const ctx = id && model.trusted ? this.ctx : null;
    const modelId = ctx ? id : null;
    const choice = chooseView(modelId, this.shown, ctx?.comms ?? null, !!ctx && widgetFactoryBound(ctx));
    if (choice === "keep") return;                 // this very widget is live here already: leave it be
    if (choice === "live" && ctx) {
      await this.showLive(model, ctx, modelId);    // just displayed by a running cell, or listed by the kernel
      return;
    }
    this.showStatic(model.data[HEADLAB_MIME]);
    if (choice === "check" && ctx && modelId && (await ctx.comms.isLive(modelId)) && alive() &&
        (await waitForBoundFactory(ctx, alive)))
      await this.showLive(model, ctx, modelId);    // an older output whose widget the kernel still holds
  }

  private clearChildren(): void {
    for (const w of [...this.widgets]) w.dispose();
  }

  private showStatic(payload: unknown): void {
    this.clearChildren();
    this.shown = { source: "saved", modelId: null };
    this.node.dataset.headlabSource = "saved";
    this.addWidget(new StaticHeadlabView(payload));
  }

  private async showLive(model: IRenderMime.IMimeModel, ctx: LiveContext, modelId: string | null): Promise<void> {
    const renderer = ctx.rendermime.createRenderer(WIDGET_MIME);
    this.clearChildren();
    this.shown = { source: "live", modelId };
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

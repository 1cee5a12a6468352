// The extension's JupyterLab plugins ("jupyterlab.extension" in js/lab/package.json):
//  * live outputs: inside every notebook and console, the headlab output renderer learns its
//    kernel and widget manager, so a live widget wins over the saved view (live.ts);
//  * the catalogue side panel and "headlab: open catalogue";
//  * "headlab: open report…": a file dialog (or `path` argument) opening a report document.
// The same plugins serve JupyterLab 4 and Notebook 7.

import { ILayoutRestorer, type JupyterFrontEnd, type JupyterFrontEndPlugin } from "@jupyterlab/application";
import { ICommandPalette, type ISessionContext } from "@jupyterlab/apputils";
import { IConsoleTracker } from "@jupyterlab/console";
import { IDocumentManager } from "@jupyterlab/docmanager";
import { FileDialog } from "@jupyterlab/filebrowser";
import { INotebookTracker } from "@jupyterlab/notebook";
import { IRenderMimeRegistry } from "@jupyterlab/rendermime";
import type { Widget } from "@lumino/widgets";

import { CatalogPanel } from "./catalog-panel";
import {
  COMMAND_CATEGORY, COMMAND_OPEN_CATALOG, COMMAND_OPEN_REPORT, OUTPUT_RANK, REPORT_EXTENSION, REPORT_FACTORY,
} from "./constants";
import { KernelWidgetComms, outputRendererFactory } from "./live";

/** Give one notebook's (or console's) registry a headlab renderer that knows its kernel. */
function attachLiveRenderer(owner: Widget, rendermime: IRenderMimeRegistry, session: ISessionContext, root: IRenderMimeRegistry): void {
  const comms = new KernelWidgetComms(session);
  rendermime.addFactory(outputRendererFactory({ rendermime, root, comms }), OUTPUT_RANK);
  owner.disposed.connect(() => comms.dispose());
}

const liveOutputs: JupyterFrontEndPlugin<void> = {
  id: "headlab:live-outputs",
  description: "Shows the live headlab widget when the kernel holds it, the saved view otherwise.",
  autoStart: true,
  requires: [IRenderMimeRegistry],
  optional: [INotebookTracker, IConsoleTracker],
  activate: (_app: JupyterFrontEnd, root: IRenderMimeRegistry, notebooks: INotebookTracker | null, consoles: IConsoleTracker | null) => {
    notebooks?.forEach((p) => attachLiveRenderer(p, p.content.rendermime, p.sessionContext, root));
    notebooks?.widgetAdded.connect((_, p) => attachLiveRenderer(p, p.content.rendermime, p.sessionContext, root));
    consoles?.forEach((p) => attachLiveRenderer(p, p.console.rendermime, p.sessionContext, root));
    consoles?.widgetAdded.connect((_, p) => attachLiveRenderer(p, p.console.rendermime, p.sessionContext, root));
  },
};

const catalogue: JupyterFrontEndPlugin<void> = {
  id: "headlab:catalogue",
  description: "Left-sidebar panel to search and read the head-type catalogue, with no kernel.",
  autoStart: true,
  optional: [ILayoutRestorer, ICommandPalette],
  activate: (app: JupyterFrontEnd, restorer: ILayoutRestorer | null, palette: ICommandPalette | null) => {
    let panel: CatalogPanel | null = null;
    const ensure = (): CatalogPanel => {
      if (!panel || panel.isDisposed) {
        panel = new CatalogPanel();
        app.shell.add(panel, "left", { rank: 600 });
        restorer?.add(panel, panel.id);
      }
      return panel;
    };
    ensure();
    app.commands.addCommand(COMMAND_OPEN_CATALOG, {
      label: "headlab: open catalogue",
      caption: "Search head types by English name, Chinese name or alias",
      execute: (args) => {
        const p = ensure();
        app.shell.activateById(p.id);
        if (typeof args.query === "string") p.setQuery(args.query);
      },
    });
    palette?.addItem({ command: COMMAND_OPEN_CATALOG, category: COMMAND_CATEGORY });
  },
};

const openReport: JupyterFrontEndPlugin<void> = {
  id: "headlab:open-report",
  description: "Command that opens a headlab report file as an interactive document.",
  autoStart: true,
  requires: [IDocumentManager],
  optional: [ICommandPalette],
  activate: (app: JupyterFrontEnd, docs: IDocumentManager, palette: ICommandPalette | null) => {
    app.commands.addCommand(COMMAND_OPEN_REPORT, {
      label: "headlab: open report…",
      caption: "Open a headlab report (headlab-report.json or *.headlab) without a kernel",
      execute: async (args) => {
        let path = typeof args.path === "string" ? args.path : "";
        if (!path) {
          const result = await FileDialog.getOpenFiles({
            manager: docs,
            title: "Open a headlab report",
            label: "A report JSON (what `headlab scan` writes) or a *.headlab file:",
            filter: (m) => (m.type === "directory" || m.name.endsWith(".json") || m.name.endsWith(REPORT_EXTENSION) ? {} : null),
          });
          const chosen = result.button.accept ? (result.value ?? []).filter((m) => m.type !== "directory") : [];
          if (!chosen.length) return;
          path = chosen[0].path;
        }
        return docs.openOrReveal(path, REPORT_FACTORY);
      },
    });
    palette?.addItem({ command: COMMAND_OPEN_REPORT, category: COMMAND_CATEGORY });
  },
};

export default [liveOutputs, catalogue, openReport];

// The extension's MIME renderers ("jupyterlab.mimeExtension" in js/lab/package.json):
//  * saved headlab outputs (application/vnd.headlab.v1+json), drawn without a kernel wherever
//    JupyterLab renders outputs; inside notebooks and consoles plugin.ts replaces this factory
//    with one that can hand the output to the live widget;
//  * report documents: `headlab-report*.json` and `*.headlab` open as an interactive report.

import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";

import {
  OUTPUT_RANK, REPORT_EXTENSION, REPORT_FACTORY, REPORT_FILE_TYPE, REPORT_MIME, REPORT_NAME_PATTERN,
} from "./constants";
import { outputRendererFactory } from "./live";
import { ReportRenderer } from "./report-view";

const outputs: IRenderMime.IExtension = {
  id: "headlab:outputs",
  description: "Draws saved headlab views (application/vnd.headlab.v1+json) without a kernel.",
  rendererFactory: outputRendererFactory(),
  rank: OUTPUT_RANK,
  dataType: "json",
};

const reports: IRenderMime.IExtension = {
  id: "headlab:reports",
  description: "Opens headlab report files (headlab scan's JSON, *.headlab) as interactive documents.",
  rendererFactory: { safe: true, mimeTypes: [REPORT_MIME], createRenderer: () => new ReportRenderer() },
  rank: 0,
  dataType: "json",
  fileTypes: [{
    name: REPORT_FILE_TYPE,
    displayName: "headlab report",
    mimeTypes: [REPORT_MIME],
    extensions: [REPORT_EXTENSION],
    pattern: REPORT_NAME_PATTERN,
    fileFormat: "text",
    icon: "ui-components:json",
  }],
  documentWidgetFactoryOptions: {
    name: REPORT_FACTORY,
    label: "headlab report",
    primaryFileType: REPORT_FILE_TYPE,
    fileTypes: [REPORT_FILE_TYPE, "json"],
    defaultFor: [REPORT_FILE_TYPE],
  },
};

export default [outputs, reports];

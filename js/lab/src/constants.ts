// Names shared by the extension's modules and its tests (no imports: the pure modules use it too).

/** Saved output of any headlab view; the Python side writes it beside the live widget. */
export const HEADLAB_MIME = "application/vnd.headlab.v1+json";

/** The live widget's reference in an output (ipywidgets / anywidget). */
export const WIDGET_MIME = "application/vnd.jupyter.widget-view+json";

/** Comm target of ipywidgets models: a comm of this target open in the kernel = a live widget. */
export const WIDGET_COMM_TARGET = "jupyter.widget";

/**
 * Rank of the headlab output renderer. jupyterlab_widgets registers the widget-view renderer at
 * -10; a lower rank makes JupyterLab pick ours, which then hands the output to the widget
 * renderer when the kernel holds the model (see live.ts).
 */
export const OUTPUT_RANK = -20;

/** Content of a report document (a `headlab scan` JSON or a `*.headlab` file). */
export const REPORT_MIME = "application/vnd.headlab.report+json";
export const REPORT_FILE_TYPE = "headlab-report";
export const REPORT_FACTORY = "headlab report";
/** File names opened as reports by default: what `headlab scan` writes, plus `*.headlab`. */
export const REPORT_NAME_PATTERN = "^headlab-report.*\\.json$";
export const REPORT_EXTENSION = ".headlab";

export const CATALOG_PANEL_ID = "headlab-catalog-panel";
export const COMMAND_OPEN_CATALOG = "headlab:open-catalogue";
export const COMMAND_OPEN_REPORT = "headlab:open-report";
export const COMMAND_CATEGORY = "headlab";

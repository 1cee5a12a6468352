// Merged by @jupyter/builder into its own config (package.json "jupyterlab.webpackConfig").
// The catalogue data ships inside the extension as its own chunk, loaded when the sidebar first
// needs it. CATALOG_JSON (written by make_catalog_json.py) is the one place that names the file.
const path = require("path");

const CATALOG_JSON = process.env.HEADLAB_CATALOG_JSON || path.join(__dirname, "data", "catalog.json");

module.exports = {
  resolve: { alias: { "headlab-catalog-data$": CATALOG_JSON } },
};

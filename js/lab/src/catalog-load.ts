// The catalogue shipped inside the extension, loaded once, on first use (a chunk of its own:
// rspack.config.cjs aliases "headlab-catalog-data" to the JSON that make_catalog_json.py writes).

import { type CatalogType, normalizeCatalog } from "./catalog-data";

let loading: Promise<CatalogType[]> | null = null;

export function loadCatalog(): Promise<CatalogType[]> {
  loading ??= import(/* webpackChunkName: "headlab-catalog" */ "headlab-catalog-data").then(
    (mod: { default?: unknown }) => normalizeCatalog(mod.default ?? mod),
  );
  loading.catch(() => { loading = null; });      // a failed load may be retried
  return loading;
}

// The catalogue JSON, aliased by rspack.config.cjs (CATALOG_JSON); its shape is read by
// catalog-data.ts normalizeCatalog, so TypeScript needs no type for it.
declare module "headlab-catalog-data" {
  const data: unknown;
  export default data;
}

// Builds the prebuilt JupyterLab extension `headlab` into headlab/labextension/ (shipped in the
// wheel as share/jupyter/labextensions/headlab):
//   1. the catalogue JSON (js/lab/data/catalog.json) when missing or older than the catalogue data;
//   2. TypeScript -> js/lab/lib (the extension's sources and the js/src views they import);
//   3. @jupyter/builder (JupyterLab's official extension builder, module federation via rspack)
//      against the JupyterLab core metadata in node_modules/@jupyterlab/core-meta;
//   4. install.json beside the package.json, so `jupyter labextension list` names the Python package.
// Usage: node js/lab/build.mjs [--development]
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const nodeModules = path.join(repo, "node_modules");
const catalogJson = process.env.HEADLAB_CATALOG_JSON || path.join(here, "data", "catalog.json");
const outDir = path.join(repo, "headlab", "labextension");
const dev = process.argv.includes("--development");

function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: repo, stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`headlab labextension: ${what} failed (${cmd} ${args.join(" ")})`);
    process.exit(r.status ?? 1);
  }
}

function newestMtime(dir) {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

// 1. catalogue data (generated from headlab.catalog; see make_catalog_json.py)
const sources = Math.max(newestMtime(path.join(repo, "headlab", "catalog", "data")), fs.statSync(path.join(here, "make_catalog_json.py")).mtimeMs);
if (!process.env.HEADLAB_CATALOG_JSON && (!fs.existsSync(catalogJson) || fs.statSync(catalogJson).mtimeMs < sources)) {
  const py = process.env.PYTHON || "python3";
  const r = spawnSync(py, [path.join(here, "make_catalog_json.py"), catalogJson], { cwd: repo, stdio: "inherit" });
  if (r.status !== 0) {
    if (!fs.existsSync(catalogJson)) {
      console.error(`headlab labextension: could not write ${catalogJson}; it needs PyYAML and jsonschema in ${py}`);
      process.exit(1);
    }
    console.warn(`headlab labextension: keeping the existing ${path.relative(repo, catalogJson)} (regeneration failed)`);
  }
}
if (!fs.existsSync(catalogJson)) {
  console.error(`headlab labextension: ${catalogJson} does not exist`);
  process.exit(1);
}

// 2. TypeScript. Like the esbuild bundle of the same views, the build does not stop at a type
// error (tsc exit 2: reported, output written); `npm run typecheck` is the check that fails.
const tsc = spawnSync(process.execPath, [path.join(nodeModules, "typescript", "bin", "tsc"), "-p", path.join(here, "tsconfig.json")], { cwd: repo, stdio: "inherit" });
if (tsc.status === 2) console.warn("headlab labextension: TypeScript reported errors (above); building anyway");
else if (tsc.status !== 0) {
  console.error("headlab labextension: TypeScript failed");
  process.exit(tsc.status ?? 1);
}

// 3. the official builder
const builder = path.join(nodeModules, "@jupyter", "builder", "lib", "build-labextension.js");
const core = path.join(nodeModules, "@jupyterlab", "core-meta", "core.package.json");
run(process.execPath, [builder, "--core-package-file", core, ...(dev ? ["--development"] : []), here], "@jupyter/builder");

// 4. install.json (the builder empties outDir on every build)
fs.copyFileSync(path.join(here, "install.json"), path.join(outDir, "install.json"));
console.log(`headlab labextension: built ${path.relative(repo, outDir)}${dev ? " (development)" : ""}`);

// Bundles js/src into headlab/static/ for the wheel: index.js (every view), host.js (the
// kernel-free host inlined by widget.to_html) and styles.css.
import * as esbuild from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const options = {
  entryPoints: [path.join(here, "src/index.ts"), path.join(here, "src/host.ts"), path.join(here, "src/styles.css")],
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2020",
  outdir: path.join(here, "../headlab/static"),
  // UMD dependencies that sniff define.amd break inside require.js pages.
  define: { "define.amd": "false" },
  logLevel: "info",
};

if (process.argv.includes("--watch")) {
  const ctx = await esbuild.context({ ...options, minify: false, sourcemap: "inline" });
  await ctx.watch();
} else {
  await esbuild.build(options);
}

// Builds the browser app into web/dist for src/http/web-app.ts. The output must run under the
// server's strict CSP: no inline scripts or styles, no data: fonts, so nothing is inlined.
import { defineConfig } from "vite";

export default defineConfig({
  esbuild: { jsx: "automatic" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: "es2022",
  },
});

// The studio's page: Preact + TypeScript (JSX settings from web/tsconfig.json), built into web/dist,
// which `dualproc studio` serves.
import { defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 600 },
});

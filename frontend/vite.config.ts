import { resolve } from "node:path";
import { defineConfig } from "vitest/config";

// Django serves dist/ under /static/ and reads dist/.vite/manifest.json to emit the
// <script>/<link> tags of an entry (see README.md, "Build contract").
export default defineConfig({
  base: "/static/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    manifest: true,
    sourcemap: true,
    target: "es2022",
    rollupOptions: {
      input: {
        case: resolve(import.meta.dirname, "src/pages/case.ts"),
        upload: resolve(import.meta.dirname, "src/pages/upload.ts"),
        caselist: resolve(import.meta.dirname, "src/pages/caselist.ts"),
        styles: resolve(import.meta.dirname, "src/pages/styles.ts"),
        review: resolve(import.meta.dirname, "src/pages/review.ts"),
        history: resolve(import.meta.dirname, "src/pages/history.ts"),
        measurements: resolve(import.meta.dirname, "src/pages/measurements.ts"),
        dashboard: resolve(import.meta.dirname, "src/pages/dashboard.ts"),
        profile: resolve(import.meta.dirname, "src/pages/profile.ts"),
        exports: resolve(import.meta.dirname, "src/pages/exports.ts"),
        models: resolve(import.meta.dirname, "src/pages/models.ts"),
        pacs: resolve(import.meta.dirname, "src/pages/pacs.ts"),
        reports: resolve(import.meta.dirname, "src/pages/reports.ts"),
      },
    },
  },
  test: {
    include: ["src/**/*.spec.ts"],
    environment: "node",
  },
});

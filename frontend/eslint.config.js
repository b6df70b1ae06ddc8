// ESLint for the frontend: typescript-eslint's type-checked recommended rules, and features that
// import one another only through their index.ts.
import js from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import tseslint from "typescript-eslint";

/**
 * Features (src/features/<name>/) import one another only through their index.ts: a path that climbs out
 * of the feature and then into another feature's folder is an error. The pattern sees the import path, not
 * the importing file, so each folder depth has its own line (add one if a feature nests deeper).
 */
const FEATURE_IMPORT = "Import another feature through its index.ts ('../<feature>'), not one of its modules.";
const forbid = (files, regex) => ({
  files,
  rules: { "no-restricted-imports": ["error", { patterns: [{ regex, message: FEATURE_IMPORT }] }] },
});

export default defineConfig(
  globalIgnores(["dist/", "node_modules/"]),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        project: ["./tsconfig.json", "./tsconfig.node.json"],
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  forbid(["src/features/*/*.ts"], String.raw`^\.\./[\w-]+/.`),
  forbid(["src/features/*/*/*.ts"], String.raw`^\.\./\.\./[\w-]+/.`),
  forbid(["src/pages/*.ts"], String.raw`^\.\./features/[\w-]+/.`),
  {
    files: ["**/*.js"],
    extends: [tseslint.configs.disableTypeChecked],
  },
);

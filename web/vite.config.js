// The dashboard's bundle: Preact pages with JSX compiled by esbuild (no Babel),
// uPlot for charts. CMake passes --outDir (build/cli/dashboard, beside amlc).
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1000 },
  logLevel: 'warn',
});

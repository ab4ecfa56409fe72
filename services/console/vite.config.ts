import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The shared schemas validate indicators with the indicators package, which
// reads domain names through Node's `domainToASCII`; the browser build gets
// the same WHATWG host parsing from the platform's URL instead.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  resolve: {
    alias: { 'node:url': fileURLToPath(new URL('./src/shims/node-url.ts', import.meta.url)) },
    conditions: ['browser'],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No inline scripts or modulepreload polyfill: the page's CSP allows scripts from its origin only.
    modulePreload: false,
    assetsInlineLimit: 0,
    target: 'es2022',
  },
});

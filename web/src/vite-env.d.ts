// Vite's types for what the bundler resolves: stylesheet imports, import.meta.env.
/// <reference types="vite/client" />

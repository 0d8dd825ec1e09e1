// Files exactly as the earlier gateways' documents show them, for tests of their set-ups.
import { readFileSync } from 'node:fs';
import type { CatalogEntryJson } from './emulator/catalog-server.js';

/** Seed 003's config.json, verbatim. */
export const SEED_003_CONFIG = readFileSync(
  new URL('../fixtures/seeds/003-config.json', import.meta.url),
  'utf8',
);

/** The model list seed 001's document shows its MODEL_LIST_URL answering with. */
export const SEED_001_MODELS: readonly CatalogEntryJson[] = (
  JSON.parse(readFileSync(new URL('../fixtures/seeds/001-models.json', import.meta.url), 'utf8')) as {
    models: CatalogEntryJson[];
  }
).models;

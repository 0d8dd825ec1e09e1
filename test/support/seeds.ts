// Files exactly as the earlier gateways' documents show them, for tests of their set-ups.
import { readFileSync } from 'node:fs';

/** Seed 003's config.json, verbatim. */
export const SEED_003_CONFIG = readFileSync(
  new URL('../fixtures/seeds/003-config.json', import.meta.url),
  'utf8',
);

// `ai-proxy models [--json]`: the models the configuration makes available and where each comes from.
import type { Command } from 'commander';
import { Catalog } from '../catalog/catalog.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { createProcessLogger } from '../logs/process-logger.js';
import { type CatalogListing, listModels } from '../routing/model-list.js';
import { configFailure } from './config-check.js';

export function registerModelsCommand(program: Command): void {
  program
    .command('models')
    .description('list the models this configuration serves and where each comes from')
    .option('--config <path>', 'config file (YAML or JSON)')
    .option('--json', 'print JSON')
    .action(async (options: { config?: string; json?: boolean }) => {
      let config: ReturnType<typeof loadConfig>;
      try {
        config = loadConfig({ configPath: options.config });
      } catch (error) {
        configFailure(error);
      }
      const models = listModels(config, Math.floor(Date.now() / 1000), await catalogModels(config));
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ object: 'list', data: models }, null, 2)}\n`);
        return;
      }
      if (models.length === 0) {
        process.stdout.write(
          'No aliases or provider models configured; any provider:model of a configured provider works.\n',
        );
      }
      const width = Math.max(5, ...models.map((m) => m.id.length));
      process.stdout.write(`${'MODEL'.padEnd(width)}  ${'SOURCE'.padEnd(8)}  OWNER\n`);
      for (const model of models) {
        process.stdout.write(`${model.id.padEnd(width)}  ${model.source.padEnd(8)}  ${model.owned_by}\n`);
      }
      const providers = [...config.providers.values()].filter((p) => p.configured).map((p) => p.name);
      process.stdout.write(
        `\nConfigured providers (provider:model works for each): ${providers.join(', ') || 'none'}\n`,
      );
    });
}

/** One fetch of MODEL_LIST_URL; a catalog that is down is said on stderr, the rest still lists. */
async function catalogModels(config: Config): Promise<readonly CatalogListing[]> {
  if (config.catalog === undefined) return [];
  // Warnings (skipped entries, a failed fetch) go to stderr so `--json` output stays clean.
  const logger = createProcessLogger(config.log.level === 'none' ? 'none' : 'warning', process.stderr);
  const catalog = new Catalog(logger);
  catalog.configure(config.catalog);
  await catalog.refresh();
  const health = catalog.health();
  catalog.close();
  if (health?.last_error != null) {
    process.stderr.write(`model catalog ${health.source} unavailable: ${health.last_error}\n`);
  }
  return catalog.listed();
}

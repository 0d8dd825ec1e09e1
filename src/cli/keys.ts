// `ai-proxy keys create | list | show | update | revoke | rotate`: managed client keys in the store
// the configuration names (KEYS_DB_PATH, or Redis with REDIS_URL). A running gateway sees each
// change within a second. create and rotate print the key once; nothing else ever prints it.
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { createProcessLogger } from '../logs/process-logger.js';
import { isKeyId } from '../managed-keys/key-format.js';
import { KeyInputError } from '../managed-keys/key-input.js';
import { KeyRevokedError, type KeyStore } from '../managed-keys/key-store.js';
import { createKeyStore } from '../managed-keys/key-store-factory.js';
import type { ManagedKey } from '../managed-keys/types.js';
import { configFailure } from './config-check.js';
import { addKeyOptions, createInput, type KeyOptions, optionFor, patchInput } from './keys-options.js';
import { printKey, printList, printNewKey, type Usage } from './keys-output.js';
import { fail } from './parse.js';

/** Each key's usage (spend, remaining budget) for list and show, when the counters are wired. */
export type KeyUsageReader = (config: Config, ids: readonly string[]) => Promise<Usage>;

export interface KeysCommandHooks {
  usage?: KeyUsageReader;
}

interface CommonOptions {
  config?: string;
  json?: boolean;
}

/** Opens the store for one command, runs it, closes the store; every failure is a message and exit 1. */
async function withStore(
  options: CommonOptions,
  run: (store: KeyStore, config: Config) => Promise<void>,
): Promise<void> {
  let config: Config;
  try {
    config = loadConfig({ configPath: options.config });
  } catch (error) {
    configFailure(error);
  }
  // Store warnings (Redis unreachable) go to stderr so --json output stays clean.
  const logger = createProcessLogger(config.log.level === 'none' ? 'none' : 'warning', process.stderr);
  const store = createKeyStore(config, logger);
  let failure: string | undefined;
  try {
    await store.ready();
    await run(store, config);
  } catch (error) {
    failure = describeFailure(error);
  } finally {
    await store.close();
  }
  if (failure !== undefined) fail(failure);
}

function describeFailure(error: unknown): string {
  if (error instanceof KeyInputError) {
    const option = optionFor(error.field);
    const detail = error.message.startsWith(error.field)
      ? error.message.slice(error.field.length).trim()
      : error.message;
    return `${option}: ${detail}`;
  }
  if (error instanceof KeyRevokedError || error instanceof KeyNotFound) return error.message;
  return `the key store could not be used: ${(error as Error).message}`;
}

function checkId(id: string): void {
  if (!isKeyId(id))
    fail(`${JSON.stringify(id)} is not a key id (key_ and 12 hex characters; see ai-proxy keys list)`);
}

class KeyNotFound extends Error {}

function found<T>(value: T | undefined, id: string): T {
  if (value === undefined) throw new KeyNotFound(`no managed key ${id} (see ai-proxy keys list)`);
  return value;
}

async function usageOf(
  hooks: KeysCommandHooks,
  config: Config,
  records: readonly ManagedKey[],
): Promise<Usage | undefined> {
  if (hooks.usage === undefined || records.length === 0) return undefined;
  return hooks.usage(
    config,
    records.map((record) => record.id),
  );
}

export function registerKeysCommand(program: Command, hooks: KeysCommandHooks = {}): void {
  const keys = program
    .command('keys')
    .description('managed client keys: per-key models, request and token limits, budgets and expiry');

  addKeyOptions(
    keys
      .command('create')
      .description('create a key; it is printed this once')
      .requiredOption('--name <name>', 'what the key is for'),
  ).action((options: KeyOptions & { name: string }) =>
    withStore(options, async (store) => {
      const { key, record } = await store.create(createInput(options));
      printNewKey(key, record, options.json === true, 'Created');
    }),
  );

  keys
    .command('list')
    .description('every key: id, name, owner, status, expiry and policy (never the key)')
    .option('--json', 'print JSON')
    .option('--config <path>', 'config file (YAML or JSON)')
    .action((options: CommonOptions) =>
      withStore(options, async (store, config) => {
        const records = await store.list();
        printList(records, await usageOf(hooks, config, records), options.json === true);
      }),
    );

  keys
    .command('show <id>')
    .description('one key (never the key itself)')
    .option('--json', 'print JSON')
    .option('--config <path>', 'config file (YAML or JSON)')
    .action((id: string, options: CommonOptions) => {
      checkId(id);
      return withStore(options, async (store, config) => {
        const record = found(await store.get(id), id);
        const usage = await usageOf(hooks, config, [record]);
        printKey(record, usage?.get(id), options.json === true);
      });
    });

  addKeyOptions(
    keys
      .command('update <id>')
      .description('change a key’s name, owner, policy or expiry (none removes a limit)')
      .option('--name <name>', 'what the key is for'),
  ).action((id: string, options: KeyOptions) => {
    checkId(id);
    const patch = patchInput(options);
    if (patch === undefined)
      fail('nothing to change: give at least one option (see ai-proxy keys update --help)');
    return withStore(options, async (store) => {
      const record = found(await store.update(id, patch), id);
      printKey(record, undefined, options.json === true);
    });
  });

  keys
    .command('revoke <id>')
    .description('revoke a key: every running gateway refuses it within a second')
    .option('--json', 'print JSON')
    .option('--config <path>', 'config file (YAML or JSON)')
    .action((id: string, options: CommonOptions) => {
      checkId(id);
      return withStore(options, async (store) => {
        const record = found(await store.revoke(id), id);
        if (options.json === true) printKey(record, undefined, true);
        else process.stdout.write(`Revoked ${record.id} (${record.name}).\n`);
      });
    });

  keys
    .command('rotate <id>')
    .description('a new key for the same id, policy and counters; the old key stops working')
    .option('--json', 'print JSON')
    .option('--config <path>', 'config file (YAML or JSON)')
    .action((id: string, options: CommonOptions) => {
      checkId(id);
      return withStore(options, async (store) => {
        const created = found(await store.rotate(id), id);
        printNewKey(created.key, created.record, options.json === true, 'Rotated');
      });
    });
}

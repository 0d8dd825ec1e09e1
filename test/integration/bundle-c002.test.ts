// C002's log part, as seed 002's README runs it: the seed's Gemini set-up serves real traffic, then
// its documented commands, with its flags and relative paths, run in the gateway's folder:
// init, ingest --from ./logs, fts build, bundle create --out ./backup-….tgz, bundle transfer to a
// folder, and bundle import --dest ./logs/db on a second "server" (another folder).
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDay, listPartitions } from '../../src/logstore/partitions.js';
import { search } from '../../src/logstore/search.js';
import { type CliResult, runCli } from '../support/cli.js';
import { ProviderEmulator } from '../support/emulator.js';
import { makeTempDir, startTestGateway, type TestGateway } from '../support/gateway.js';

const DAY = 86_400_000;
const SINCE = formatDay(new Date(Date.now() - DAY));
const TO = formatDay(new Date(Date.now() + DAY));

let upstream: ProviderEmulator;
let gw: TestGateway;
let other: string;
const ids: string[] = [];

beforeAll(async () => {
  upstream = await ProviderEmulator.start();
  gw = await startTestGateway({
    env: { GEMINI_API_KEY: 'AIza-c002', GEMINI_BASE_URL: `${upstream.url}/v1beta` },
    files: { 'config.yml': 'model_mappings:\n  "gemini-pro": "gemini:gemini-1.5-pro-latest"\n' },
  });
  const plain = await gw
    .client()
    .chat.completions.create({
      model: 'gemini-pro',
      messages: [{ role: 'user', content: 'What is the capital of France?' }],
    })
    .withResponse();
  ids.push(plain.response.headers.get('x-request-id') ?? '');
  const streamed = await gw
    .client()
    .chat.completions.create({
      model: 'gemini-pro',
      messages: [{ role: 'user', content: 'Tell me about timeout and retry handling' }],
      stream: true,
    })
    .withResponse();
  for await (const _ of streamed.data);
  ids.push(streamed.response.headers.get('x-request-id') ?? '');
  await gw.requestLog();
  other = makeTempDir('ai-proxy-c002-dest-');
}, 30_000);

afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
  if (other !== undefined) rmSync(other, { recursive: true, force: true });
});

function cli(args: string[], cwd: string): Promise<CliResult> {
  return runCli(['logs', ...args], { cwd, env: { LOG_DIR: './logs' }, timeoutMs: 30_000 });
}

describe("C002: the seed's log commands on real request logs", () => {
  it('init, ingest, fts build, bundle create, transfer and import work end to end', async () => {
    const steps: [string[], string][] = [
      [['init'], gw.dir],
      [['ingest', '--from', './logs', '--since', SINCE, '--to', TO], gw.dir],
      [['fts', 'build', '--since', SINCE, '--to', TO], gw.dir],
      [['bundle', 'create', '--since', SINCE, '--to', TO, '--out', `./backup-${SINCE}.tgz`], gw.dir],
      [['bundle', 'transfer', `./backup-${SINCE}.tgz`, `${join(other, 'incoming')}/`], gw.dir],
      [['bundle', 'import', `./incoming/backup-${SINCE}.tgz`, '--dest', './logs/db'], other],
    ];
    for (const [args, cwd] of steps) {
      const result = await cli(args, cwd);
      expect(result.code, `ai-proxy logs ${args.join(' ')}\n${result.stderr}`).toBe(0);
    }
    expect(existsSync(join(other, 'incoming', `backup-${SINCE}.tgz`))).toBe(true);

    // The second server holds both exchanges, searchable, under the first server's id.
    const dbRoot = join(other, 'logs', 'db');
    expect(listPartitions(dbRoot).length).toBeGreaterThan(0);
    const france = search({ dbRoot, query: 'France', limit: 10 }).hits;
    expect(france.map((h) => h.request_id)).toEqual([ids[0]]);
    const near = search({ dbRoot, query: 'NEAR(timeout retry, 3)', limit: 10 }).hits;
    expect(near.map((h) => h.request_id)).toEqual([ids[1]]);

    // And importing it again changes nothing.
    const again = await runCli(
      ['logs', 'bundle', 'import', `./incoming/backup-${SINCE}.tgz`, '--dest', './logs/db', '--json'],
      { cwd: other, timeoutMs: 30_000 },
    );
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ inserted: 0, rows: 2 });
  });
});

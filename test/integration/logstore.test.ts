// The log store end to end on real gateway traffic: the gateway answers real calls against the
// provider emulator, its request log goes through `ai-proxy logs ingest | fts build | search |
// dialogs assign | show | stats` (the built CLI as a child process), and a gateway with
// LOGDB_ENABLED=true ingests on its own.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDay, partitionPath } from '../../src/logstore/partitions.js';
import { openPartition, SCHEMA_VERSION } from '../../src/logstore/schema.js';
import { search } from '../../src/logstore/search.js';
import { runCli, spawnServe } from '../support/cli.js';
import { ProviderEmulator } from '../support/emulator.js';
import { freePort } from '../support/free-port.js';
import {
  CLIENT_KEY,
  makeTempDir,
  startTestGateway,
  type TestGateway,
  writeFiles,
} from '../support/gateway.js';

const UPSTREAM_KEY = 'sk-upstream-secret';
const CONFIG = 'model_mappings:\n  my-alias: "openai:gpt-4o-mini"\n';

function todayPartition(dbRoot: string): string {
  return partitionPath(dbRoot, parseDay(new Date().toISOString().slice(0, 10), 'today'), 'daily');
}

async function chat(gw: TestGateway, content: string, headers: Record<string, string> = {}) {
  const { response } = await gw
    .client()
    .chat.completions.create(
      {
        model: 'my-alias',
        messages: [
          { role: 'system', content: 'You answer briefly.' },
          { role: 'user', content },
        ],
      },
      { headers },
    )
    .withResponse();
  return response.headers.get('x-request-id') ?? '';
}

describe('ai-proxy logs on real request logs', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;
  let logDir: string;
  const ids = { france: '', stream: '', tool: '', header: '', failed: '' };
  let total = 0;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: { OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: `${upstream.url}/v1` },
      files: { 'config.yml': CONFIG },
    });
    logDir = gw.gateway.runtime.config.log.dir;
    upstream.enqueue({ kind: 'chat', content: 'Paris is the capital of France.' });
    ids.france = await chat(gw, 'What is the capital city of France?');
    upstream.enqueue({ kind: 'chat', content: 'Quokkas live on Rottnest Island.' });
    const stream = await gw.client().chat.completions.create({
      model: 'my-alias',
      stream: true,
      messages: [{ role: 'user', content: 'Tell me about marsupials' }],
    });
    for await (const _chunk of stream) {
      // drain
    }
    upstream.enqueue({
      kind: 'chat',
      toolCalls: [{ name: 'lookup_weather', arguments: '{"city":"Zanzibar"}' }],
      finishReason: 'tool_calls',
    });
    ids.tool = await chat(gw, 'What is the weather like?');
    upstream.enqueue({ kind: 'chat', content: 'Dialog from the client.' });
    ids.header = await chat(gw, 'Continue our conversation', { 'x-dialog-id': 'client-dialog-7' });
    upstream.enqueue({ kind: 'error', status: 400 });
    await chat(gw, 'This one fails upstream').catch(() => undefined);
    const records = await gw.requestLog();
    total = records.length;
    ids.stream = String(records.find((r) => r.stream === true)?.id);
    ids.failed = String(records.find((r) => r.status === 400)?.id);
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  const cli = (args: string[]) =>
    runCli(['logs', ...args], { cwd: gw.dir, env: { LOG_DIR: logDir }, timeoutMs: 30_000 });

  it('init, ingest, fts build, search, show, dialogs and stats work on the gateway log', async () => {
    expect(total).toBe(5);
    const init = await cli(['init']);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain(todayPartition(join(logDir, 'db')));
    expect(init.stdout).toContain('integrity ok');

    const ingest = await cli(['ingest', '--from', logDir, '--json']);
    expect(ingest.code, ingest.stderr).toBe(0);
    expect(JSON.parse(ingest.stdout)).toMatchObject({ inserted: total, duplicates: 0, badLines: 0 });
    expect(ingest.stderr).toMatch(/ingest: done/);
    const again = await cli(['ingest', '--from', logDir, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ inserted: 0, filesRead: 0 });

    const fts = await cli(['fts', 'build']);
    expect(fts.code, fts.stderr).toBe(0);
    expect(fts.stdout).toContain(`indexed ${total} requests in 1 partitions`);

    // NEAR over the user's text; the hit maps back to the request and carries time, model, status.
    const near = await cli(['search', 'capital NEAR(france, 3)', '--json']);
    expect(near.code, near.stderr).toBe(0);
    const nearHits = JSON.parse(near.stdout).hits as Record<string, unknown>[];
    expect(nearHits.map((h) => h.request_id)).toEqual([ids.france]);
    expect(nearHits[0]).toMatchObject({ model: 'my-alias', status: 200 });
    expect(String(nearHits[0]?.snippet)).toMatch(/\[capital\]/i);
    expect(String(nearHits[0]?.time)).toMatch(/^\d{4}-/);

    // A stream's assembled answer, by prefix; a phrase; tool-call arguments; the status filter.
    const prefix = JSON.parse((await cli(['search', 'quokk*', '--json'])).stdout).hits;
    expect(prefix.map((h: { request_id: string }) => h.request_id)).toEqual([ids.stream]);
    const phrase = JSON.parse((await cli(['search', '"rottnest island"', '--json'])).stdout).hits;
    expect(phrase).toHaveLength(1);
    const tool = JSON.parse((await cli(['search', 'zanzibar', '--json'])).stdout).hits;
    expect(tool.map((h: { request_id: string }) => h.request_id)).toEqual([ids.tool]);
    const failed = JSON.parse((await cli(['search', 'fails', '--status', '400', '--json'])).stdout).hits;
    expect(failed.map((h: { request_id: string }) => h.request_id)).toEqual([ids.failed]);
    expect(JSON.parse((await cli(['search', 'fails', '--status', '200', '--json'])).stdout).hits).toEqual([]);
    const text = await cli(['search', 'paris']);
    expect(text.stdout).toContain(ids.france);
    expect(text.stdout).toContain('[Paris]');

    const show = await cli(['show', ids.france]);
    expect(show.code, show.stderr).toBe(0);
    const full = JSON.parse(show.stdout);
    expect(full.request.messages[1].content).toBe('What is the capital city of France?');
    expect(full.response.choices[0].message.content).toBe('Paris is the capital of France.');
    expect(full).toMatchObject({
      status_code: 200,
      provider: 'openai',
      model_mapped: 'gpt-4o-mini',
      prompt_tokens: 10,
    });

    const assign = await cli(['dialogs', 'assign']);
    expect(assign.code, assign.stderr).toBe(0);
    const db = openPartition(todayPartition(join(logDir, 'db')), { readonly: true });
    const rows = db
      .prepare('SELECT request_id, dialog_id, dialog_source FROM requests ORDER BY ts')
      .all() as { request_id: string; dialog_id: string; dialog_source: string }[];
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    expect(byId.get(ids.header)).toMatchObject({ dialog_id: 'client-dialog-7', dialog_source: 'header' });
    // Same client key, endpoint and mapped model within 30 minutes: one dialog.
    const auto = rows.filter((r) => r.dialog_source === 'auto');
    expect(auto).toHaveLength(total - 1);
    expect(new Set(auto.map((r) => r.dialog_id)).size).toBe(1);
    const rerun = await cli(['dialogs', 'assign']);
    expect(rerun.stdout).toContain('0 requests changed');

    const stats = JSON.parse((await cli(['stats', '--json'])).stdout);
    expect(stats.total_rows).toBe(total);
    expect(stats.partitions[0]).toMatchObject({
      fts: true,
      rows: total,
      dialogs: 2,
      schema_version: SCHEMA_VERSION,
    });
    expect(stats.servers).toEqual([
      expect.objectContaining({
        server_id: gw.gateway.runtime.identity.server_id,
        hostname: gw.gateway.runtime.identity.hostname,
        rows: total,
      }),
    ]);
  });

  it('exits non-zero with a clear message on bad input', async () => {
    const badQuery = await cli(['search', 'unbalanced "quote']);
    expect(badQuery.code).toBe(1);
    expect(badQuery.stderr).toMatch(/bad search query/);
    const badDate = await cli(['ingest', '--since', '2025-02-30']);
    expect(badDate.code).toBe(1);
    expect(badDate.stderr).toMatch(/--since: "2025-02-30" is not a calendar date/);
    const reversed = await cli(['fts', 'build', '--since', '2025-09-07', '--to', '2025-09-01']);
    expect(reversed.code).toBe(1);
    expect(reversed.stderr).toMatch(/--since 2025-09-07 is after --to 2025-09-01/);
    const noFolder = await cli(['ingest', '--from', join(gw.dir, 'nowhere')]);
    expect(noFolder.code).toBe(1);
    expect(noFolder.stderr).toMatch(/no such folder/);
    const badWindow = await cli(['dialogs', 'assign', '--window', 'soon']);
    expect(badWindow.code).toBe(1);
    expect(badWindow.stderr).toMatch(/--window/);
    const missing = await cli(['show', 'req_missing']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no stored request/);
    const granularity = await runCli(['logs', 'stats'], {
      cwd: gw.dir,
      env: { LOG_DIR: logDir, LOGDB_PARTITION_GRANULARITY: 'hourly' },
    });
    expect(granularity.code).toBe(1);
    expect(granularity.stderr).toMatch(/LOGDB_PARTITION_GRANULARITY: expected daily or weekly/);
  });
});

describe('the gateway with LOGDB_ENABLED=true', () => {
  let upstream: ProviderEmulator;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
  });
  afterAll(async () => {
    await upstream?.close();
  });

  it('ingests, indexes and groups on its own, and stores the last records on stop', async () => {
    const gw = await startTestGateway({
      env: {
        OPENAI_API_KEY: UPSTREAM_KEY,
        OPENAI_BASE_URL: `${upstream.url}/v1`,
        LOGDB_ENABLED: 'true',
        LOGDB_FTS_ENABLED: 'true',
        LOGDB_GROUPING_ENABLED: 'true',
        LOGDB_INGEST_INTERVAL_MS: '100',
      },
      files: { 'config.yml': CONFIG },
    });
    const dbRoot = join(gw.gateway.runtime.config.log.dir, 'db');
    try {
      upstream.enqueue({ kind: 'chat', content: 'The platypus lays eggs.' });
      const first = await chat(gw, 'Which mammal lays eggs?');
      upstream.enqueue({ kind: 'chat', content: 'Echidnas do too.' });
      const second = await chat(gw, 'Any other one?');
      upstream.enqueue({ kind: 'chat', content: 'Own dialog.' });
      const third = await chat(gw, 'Separate thread', { 'x-dialog-id': 'thread-9' });

      const deadline = Date.now() + 15_000;
      let rows: { request_id: string; dialog_id: string | null }[] = [];
      while (Date.now() < deadline) {
        try {
          const db = openPartition(todayPartition(dbRoot), { readonly: true });
          rows = db.prepare('SELECT request_id, dialog_id FROM requests').all() as typeof rows;
          db.close();
        } catch {
          // not created yet
        }
        if (rows.length === 3 && rows.every((r) => r.dialog_id !== null)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(rows.map((r) => r.request_id).sort()).toEqual([first, second, third].sort());
      const dialogs = new Map(rows.map((r) => [r.request_id, r.dialog_id]));
      expect(dialogs.get(third)).toBe('thread-9');
      expect(dialogs.get(first)).toMatch(/^dlg_/);
      expect(dialogs.get(second)).toBe(dialogs.get(first));
      const hits = search({ dbRoot, query: 'platypus', limit: 10 }).hits;
      expect(hits.map((h) => h.request_id)).toEqual([first]);

      // A record written just before stop reaches the store through the last pass.
      upstream.enqueue({ kind: 'chat', content: 'Last words before the stop.' });
      const last = await chat(gw, 'final question');
      await gw.gateway.stop();
      const db = openPartition(todayPartition(dbRoot), { readonly: true });
      const stored = db.prepare('SELECT COUNT(*) AS n FROM requests WHERE request_id = ?').get(last) as {
        n: number;
      };
      db.close();
      expect(stored.n).toBe(1);
      expect(gw.processLog.filter((line) => line.includes('log store ingest failed'))).toEqual([]);
    } finally {
      await gw.stop();
    }
  });
});

describe('ai-proxy serve with LOGDB_ENABLED=true (the built product: ingest in a worker thread)', () => {
  it.each([
    ['one process', []],
    ['--workers 2 (the primary ingests)', ['--workers', '2']],
  ])(
    'stores requests while serving and the last ones on SIGTERM: %s',
    async (_label, extraArgs) => {
      const upstream = await ProviderEmulator.start();
      const dir = makeTempDir('logstore-serve-');
      writeFiles(dir, { 'config.yml': CONFIG });
      const port = await freePort();
      const server = spawnServe(['--port', String(port), ...extraArgs], {
        cwd: dir,
        env: {
          API_KEYS: CLIENT_KEY,
          OPENAI_API_KEY: UPSTREAM_KEY,
          OPENAI_BASE_URL: `${upstream.url}/v1`,
          LOGDB_ENABLED: 'true',
          LOGDB_FTS_ENABLED: 'true',
          LOGDB_GROUPING_ENABLED: 'true',
          LOGDB_INGEST_INTERVAL_MS: '100',
        },
      });
      try {
        await server.waitForLine((line) => line.includes('ai-proxy listening'));
        const call = async (content: string) => {
          const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'my-alias', messages: [{ role: 'user', content }] }),
          });
          expect(response.status).toBe(200);
          return response.headers.get('x-request-id') ?? '';
        };
        upstream.setDefault({ kind: 'chat', content: 'Kangaroos hop.' });
        const first = await call('How do kangaroos move?');
        const dbPath = todayPartition(join(dir, 'logs', 'db'));
        const deadline = Date.now() + 15_000;
        let found = 0;
        while (Date.now() < deadline && found === 0) {
          await new Promise((r) => setTimeout(r, 100));
          try {
            const db = openPartition(dbPath, { readonly: true });
            found = (
              db
                .prepare(
                  "SELECT COUNT(*) AS n FROM requests r JOIN request_text_index f ON f.rowid = r.rowid WHERE request_text_index MATCH 'kangaroos' AND r.request_id = ? AND r.dialog_id IS NOT NULL",
                )
                .get(first) as { n: number }
            ).n;
            db.close();
          } catch {
            // the partition or its index is not there yet
          }
        }
        expect(found).toBe(1);
        const last = await call('One more before the stop');
        expect(await server.stop('SIGTERM')).toBe(0);
        const db = openPartition(dbPath, { readonly: true });
        const rows = db.prepare('SELECT request_id FROM requests ORDER BY ts').all() as {
          request_id: string;
        }[];
        db.close();
        expect(rows.map((r) => r.request_id)).toEqual([first, last]);
      } finally {
        await server.stop('SIGKILL');
        await upstream.close();
      }
    },
    40_000,
  );
});

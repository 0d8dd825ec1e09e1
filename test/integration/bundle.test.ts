// Log bundles end to end (SPEC §8, issue 6, C002's log part): real traffic through two gateways with
// their own LOG_DIRs (so two server ids) -> request logs -> `logs ingest` -> `logs bundle create`,
// `verify` (and a tampered byte), `import` twice, both servers' bundles into one store, `transfer`
// and `logs merge`, all through the built CLI.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDay, listPartitions } from '../../src/logstore/partitions.js';
import { SCHEMA_VERSION } from '../../src/logstore/schema.js';
import { type CliResult, runCli } from '../support/cli.js';
import { ProviderEmulator } from '../support/emulator.js';
import { makeTempDir, startTestGateway, type TestGateway } from '../support/gateway.js';

const CONFIG = 'model_mappings:\n  my-alias: "openai:gpt-4o-mini"\n';
const DAY = 86_400_000;
// Around midnight UTC a request and the command that bundles it may fall on different days.
const SINCE = formatDay(new Date(Date.now() - DAY));
const TO = formatDay(new Date(Date.now() + DAY));

interface Server {
  gw: TestGateway;
  logDir: string;
  serverId: string;
  ids: string[];
  bundle: string;
}

let upstream: ProviderEmulator;
const servers: Server[] = [];
let work: string;

function cli(args: string[], env: Record<string, string> = {}, cwd = work): Promise<CliResult> {
  return runCli(['logs', ...args], { cwd, env, timeoutMs: 30_000 });
}

async function ok(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const result = await cli(args, env);
  expect(result.code, `ai-proxy logs ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result;
}

/** Every request row under a partition root, as (request_id, server_id). */
function storedRows(root: string): { request_id: string; server_id: string }[] {
  return listPartitions(root).flatMap((p) => {
    const db = new Database(p.path, { readonly: true });
    try {
      return db.prepare('SELECT request_id, server_id FROM requests').all() as {
        request_id: string;
        server_id: string;
      }[];
    } finally {
      db.close();
    }
  });
}

async function traffic(gw: TestGateway, words: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, word] of words.entries()) {
    const body = {
      model: 'my-alias',
      messages: [{ role: 'user' as const, content: `tell me about ${word}` }],
    };
    if (i === 0) {
      const { response, data: stream } = await gw
        .client()
        .chat.completions.create({ ...body, stream: true })
        .withResponse();
      for await (const _ of stream);
      ids.push(response.headers.get('x-request-id') ?? '');
    } else {
      const { response } = await gw.client().chat.completions.create(body).withResponse();
      ids.push(response.headers.get('x-request-id') ?? '');
    }
  }
  await gw.requestLog();
  return ids;
}

beforeAll(async () => {
  upstream = await ProviderEmulator.start();
  work = makeTempDir('ai-proxy-bundle-');
  const wordSets = [
    ['zanzibar', 'quokka', 'marmalade'],
    ['xylophone', 'pangolin'],
  ];
  for (const [n, words] of wordSets.entries()) {
    const gw = await startTestGateway({
      env: { OPENAI_API_KEY: 'sk-upstream', OPENAI_BASE_URL: `${upstream.url}/v1` },
      files: { 'config.yml': CONFIG },
    });
    const ids = await traffic(gw, words);
    servers.push({
      gw,
      logDir: gw.gateway.runtime.config.log.dir,
      serverId: gw.gateway.runtime.identity.server_id,
      ids,
      bundle: join(work, `server-${n}.tgz`),
    });
  }
}, 60_000);

afterAll(async () => {
  for (const server of servers) await server.gw.stop();
  await upstream?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('log bundles', () => {
  it('two gateways have two server ids and their traffic is in their request logs', () => {
    expect(servers).toHaveLength(2);
    expect(servers[0]?.serverId).not.toBe(servers[1]?.serverId);
    for (const server of servers) for (const id of server.ids) expect(id).toMatch(/^req_/);
  });

  it('bundle create packs metadata.json, db/ and raw/ with a checksum per file', async () => {
    for (const server of servers) {
      const env = { LOG_DIR: server.logDir };
      await ok(['ingest', '--fts'], env);
      const created = await ok(
        ['bundle', 'create', '--since', SINCE, '--to', TO, '--out', server.bundle, '--include-raw', '--json'],
        env,
      );
      const metadata = JSON.parse(created.stdout) as Record<string, unknown>;
      expect(metadata).toMatchObject({
        server_id: server.serverId,
        schema_version: SCHEMA_VERSION,
        include_raw: true,
      });
      expect(metadata.bundle_id).toMatch(/^bnd_/);
      expect(Number.isNaN(Date.parse(String(metadata.created_at)))).toBe(false);
      const files = metadata.files as { path: string; sha256: string; bytes: number }[];
      expect(files.some((f) => /^db\/\d{4}\/\d{2}\/ai_proxy_\d{8}\.sqlite3$/.test(f.path))).toBe(true);
      expect(files.some((f) => /^raw\/\d{4}-\d{2}-\d{2}\.jsonl$/.test(f.path))).toBe(true);
      for (const file of files) expect(file.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(existsSync(server.bundle)).toBe(true);
      // Plain lines of progress when stderr is not a terminal.
      expect(created.stderr).toMatch(/bundle write: done/);
    }
  });

  it('without --include-raw (and LOGDB_BUNDLE_INCLUDE_RAW unset) there is no raw/', async () => {
    const server = servers[0] as Server;
    const out = join(work, 'no-raw.tgz');
    const created = await ok(['bundle', 'create', '--since', SINCE, '--to', TO, '--out', out, '--json'], {
      LOG_DIR: server.logDir,
    });
    const metadata = JSON.parse(created.stdout) as { include_raw: boolean; files: { path: string }[] };
    expect(metadata.include_raw).toBe(false);
    expect(metadata.files.every((f) => f.path.startsWith('db/'))).toBe(true);
    const withEnv = join(work, 'raw-by-env.tgz');
    const byEnv = await ok(['bundle', 'create', '--since', SINCE, '--to', TO, '--out', withEnv, '--json'], {
      LOG_DIR: server.logDir,
      LOGDB_BUNDLE_INCLUDE_RAW: 'true',
    });
    expect((JSON.parse(byEnv.stdout) as { include_raw: boolean }).include_raw).toBe(true);

    // No --out: a generated name under ./bundles/, as the seed keeps them.
    const defaulted = await ok(['bundle', 'create', '--since', SINCE, '--to', TO, '--json'], {
      LOG_DIR: server.logDir,
    });
    const made = (JSON.parse(defaulted.stdout) as { out: string }).out;
    expect(made).toMatch(new RegExp(`^bundles/${server.serverId}_${SINCE}_${TO}_\\d{8}T\\d{6}Z\\.tgz$`));
    expect(existsSync(join(work, made))).toBe(true);
  });

  it('verify passes an intact bundle and fails on one changed byte, naming the file', async () => {
    const server = servers[0] as Server;
    const verified = await ok(['bundle', 'verify', server.bundle]);
    expect(verified.stdout).toMatch(/OK/);

    // One byte changed inside a db/ file's body, then re-compressed: gzip is happy, the hash is not.
    const tar = gunzipSync(readFileSync(server.bundle));
    let offset = 0;
    let target = '';
    while (offset < tar.length) {
      const name = tar
        .subarray(offset, offset + 100)
        .toString('utf8')
        .replace(/\0.*$/s, '');
      const size = Number.parseInt(tar.subarray(offset + 124, offset + 136).toString('utf8'), 8);
      if (name.startsWith('db/')) {
        target = name;
        const at = offset + 512 + Math.floor(size / 2);
        tar[at] = (tar[at] ?? 0) ^ 0xff;
        break;
      }
      offset += 512 + Math.ceil(size / 512) * 512;
    }
    expect(target).not.toBe('');
    const tampered = join(work, 'tampered.tgz');
    writeFileSync(tampered, gzipSync(tar));
    const failed = await cli(['bundle', 'verify', tampered]);
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain(target);
    expect(failed.stderr).toMatch(/checksum mismatch/);

    // One byte changed in the compressed file itself.
    const raw = readFileSync(server.bundle);
    const at = Math.floor(raw.length / 2);
    raw[at] = (raw[at] ?? 0) ^ 0x01;
    const flipped = join(work, 'flipped.tgz');
    writeFileSync(flipped, raw);
    const flippedResult = await cli(['bundle', 'verify', flipped]);
    expect(flippedResult.code).not.toBe(0);
    expect(flippedResult.stderr).toContain(flipped);

    // A tampered bundle is neither imported nor transferred.
    const dest = join(work, 'refused-db');
    const refused = await cli(['bundle', 'import', tampered, '--dest', dest]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(target);
    expect(storedRows(dest)).toHaveLength(0);
    const notSent = await cli(['bundle', 'transfer', tampered, join(work, 'never')]);
    expect(notSent.code).not.toBe(0);
    expect(existsSync(join(work, 'never'))).toBe(false);
  });

  it('import is idempotent, and two servers merge without duplicates, still searchable', async () => {
    const [a, b] = servers as [Server, Server];
    const dest = join(work, 'central', 'db');
    const first = await ok(['bundle', 'import', a.bundle, '--dest', dest, '--json']);
    expect(JSON.parse(first.stdout)).toMatchObject({ inserted: a.ids.length, rows: a.ids.length });
    const second = await ok(['bundle', 'import', a.bundle, '--dest', dest, '--json']);
    expect(JSON.parse(second.stdout)).toMatchObject({ inserted: 0, rows: a.ids.length });
    expect(storedRows(dest)).toHaveLength(a.ids.length);

    await ok(['bundle', 'import', b.bundle, '--dest', dest]);
    await ok(['bundle', 'import', a.bundle, '--dest', dest]);
    const rows = storedRows(dest);
    expect(rows.map((r) => r.request_id).sort()).toEqual([...a.ids, ...b.ids].sort());
    expect(new Set(rows.map((r) => r.request_id)).size).toBe(rows.length);
    for (const row of rows) {
      expect(row.server_id).toBe(a.ids.includes(row.request_id) ? a.serverId : b.serverId);
    }

    // The imported rows are in the full-text index: a word from server B's prompt finds its row.
    const search = await ok(['search', 'pangolin', '--db', dest, '--json']);
    expect(search.stdout).toContain(b.ids[1] as string);
    expect(search.stdout).not.toContain(a.ids[0] as string);
  });

  it('import into a weekly store puts rows in weekly partitions', async () => {
    const [a] = servers as [Server];
    const dest = join(work, 'weekly', 'db');
    await ok(['bundle', 'import', a.bundle, '--dest', dest], { LOGDB_PARTITION_GRANULARITY: 'weekly' });
    const partitions = listPartitions(dest);
    expect(partitions.length).toBeGreaterThan(0);
    expect(partitions.every((p) => p.granularity === 'weekly')).toBe(true);
    expect(storedRows(dest)).toHaveLength(a.ids.length);
  });

  it('merge --from DIR --to FILE puts every partition in one SQLite file, once', async () => {
    const [a, b] = servers as [Server, Server];
    const dest = join(work, 'central', 'db');
    const file = join(work, 'all.sqlite3');
    const merged = await ok(['merge', '--from', dest, '--to', file, '--json']);
    expect(JSON.parse(merged.stdout)).toMatchObject({ inserted: a.ids.length + b.ids.length });
    const again = await ok(['merge', '--from', dest, '--to', file, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ inserted: 0, rows: a.ids.length + b.ids.length });
    const db = new Database(file, { readonly: true });
    try {
      const ids = (db.prepare('SELECT request_id FROM requests').all() as { request_id: string }[]).map(
        (r) => r.request_id,
      );
      expect(ids.sort()).toEqual([...a.ids, ...b.ids].sort());
      const servers = db.prepare('SELECT server_id FROM servers').all() as { server_id: string }[];
      expect(servers.map((s) => s.server_id)).toEqual(expect.arrayContaining([a.serverId, b.serverId]));
    } finally {
      db.close();
    }
  });

  it('transfer copies to a local folder and checks the copy', async () => {
    const [a] = servers as [Server];
    const folder = join(work, 'incoming');
    mkdirSync(folder);
    const sent = await ok(['bundle', 'transfer', a.bundle, folder, '--json']);
    const result = JSON.parse(sent.stdout) as { target: string; via: string; sha256: string };
    expect(result.via).toBe('copy');
    expect(result.target).toBe(join(folder, 'server-0.tgz'));
    expect(readFileSync(result.target).equals(readFileSync(a.bundle))).toBe(true);
    await ok(['bundle', 'verify', result.target]);
  });

  it('transfer to host:path goes through rsync and reads the remote sha256 over ssh', async () => {
    const [a] = servers as [Server];
    // Stand-ins for the far end: rsync and ssh that treat "host:" as this machine.
    const bin = join(work, 'fake-bin');
    const remote = join(work, 'remote');
    mkdirSync(bin);
    mkdirSync(remote);
    const log = join(work, 'remote-calls.log');
    writeFileSync(
      join(bin, 'rsync'),
      `#!/bin/sh\necho "rsync $*" >> '${log}'\nfor last; do :; done\nsrc=""\nfor a; do case "$a" in -*) ;; *) [ "$a" != "$last" ] && src="$a";; esac; done\ncp "$src" "\${last#*:}"\n`,
    );
    writeFileSync(join(bin, 'ssh'), `#!/bin/sh\necho "ssh $1" >> '${log}'\nshift\nexec sh -c "$1"\n`);
    chmodSync(join(bin, 'rsync'), 0o755);
    chmodSync(join(bin, 'ssh'), 0o755);
    const PATH = `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`;
    const sent = await ok(['bundle', 'transfer', a.bundle, `backup-host:${remote}`, '--json'], { PATH });
    const result = JSON.parse(sent.stdout) as { via: string; check: string };
    expect(result.via).toBe('rsync');
    expect(result.check).toMatch(/remote sha256 matches/);
    expect(readFileSync(join(remote, 'server-0.tgz')).equals(readFileSync(a.bundle))).toBe(true);
    expect(readFileSync(log, 'utf8')).toMatch(/rsync .*backup-host:/);
    expect(readFileSync(log, 'utf8')).toMatch(/ssh backup-host/);

    // No rsync: scp, then the same sha256 read-back over ssh. Only the stand-ins are on PATH.
    const scpBin = join(work, 'scp-bin');
    const scpRemote = join(work, 'scp-remote');
    mkdirSync(scpBin);
    mkdirSync(scpRemote);
    writeFileSync(
      join(scpBin, 'scp'),
      `#!/bin/sh\necho "scp $*" >> '${log}'\nfor last; do :; done\nsrc=""\nfor a; do case "$a" in -*) ;; *) [ "$a" != "$last" ] && src="$a";; esac; done\n/bin/cp "$src" "\${last#*:}"\n`,
    );
    writeFileSync(join(scpBin, 'ssh'), `#!/bin/sh\nshift\nPATH=/usr/bin:/bin exec /bin/sh -c "$1"\n`);
    chmodSync(join(scpBin, 'scp'), 0o755);
    chmodSync(join(scpBin, 'ssh'), 0o755);
    const viaScp = await ok(['bundle', 'transfer', a.bundle, `backup-host:${scpRemote}/copy.tgz`, '--json'], {
      PATH: scpBin,
    });
    expect(JSON.parse(viaScp.stdout)).toMatchObject({ via: 'scp' });
    expect((JSON.parse(viaScp.stdout) as { check: string }).check).toMatch(/remote sha256 matches/);
    expect(readFileSync(join(scpRemote, 'copy.tgz')).equals(readFileSync(a.bundle))).toBe(true);

    // No rsync and no scp: a clear refusal.
    const empty = join(work, 'empty-bin');
    mkdirSync(empty);
    const refused = await cli(['bundle', 'transfer', a.bundle, 'backup-host:/tmp/x'], { PATH: empty });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/needs rsync or scp/);
  });

  it('every command exits non-zero with a clear message on bad input', async () => {
    const [a] = servers as [Server];
    const env = { LOG_DIR: a.logDir };
    const notGzip = join(work, 'not-a-bundle.tgz');
    writeFileSync(notGzip, 'hello');
    const noMeta = join(work, 'no-meta.tgz');
    writeFileSync(noMeta, gzipSync(Buffer.alloc(1024)));
    const cases: [string[], RegExp][] = [
      [
        ['bundle', 'create', '--since', TO, '--to', SINCE, '--out', join(work, 'x.tgz')],
        /--since .* is after --to/,
      ],
      [
        ['bundle', 'create', '--since', '2001-02-30', '--out', join(work, 'x.tgz')],
        /--since.*not a calendar date/,
      ],
      [
        ['bundle', 'create', '--since', '1999-01-01', '--to', '1999-01-02', '--out', join(work, 'x.tgz')],
        /no log partitions/,
      ],
      [['bundle', 'create', '--since', SINCE, '--to', TO, '--out', a.bundle], /file exists/],
      [['bundle', 'verify', join(work, 'missing.tgz')], /no such file/],
      [['bundle', 'verify', notGzip], /not a valid gzip stream/],
      [['bundle', 'verify', work], /not a file/],
      [['bundle', 'import', a.bundle, '--dest', notGzip], /--dest .* not a folder/],
      [['bundle', 'verify', noMeta], /no metadata\.json/],
      [['bundle', 'import', join(work, 'missing.tgz'), '--dest', join(work, 'd')], /no such file/],
      [['bundle', 'transfer', join(work, 'missing.tgz'), join(work, 'd2')], /no such file/],
      [['bundle', 'transfer', a.bundle, a.bundle], /is the bundle itself/],
      [['merge', '--from', join(work, 'missing-dir'), '--to', join(work, 'm.sqlite3')], /no such directory/],
      [['merge', '--from', work, '--to', join(work, 'm.sqlite3')], /no partition files/],
    ];
    for (const [args, message] of cases) {
      const result = await cli(args, env);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr, args.join(' ')).toMatch(message);
      expect(result.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
    }
  });
});

describe('a bundle of a live store', () => {
  it('snapshots partitions the gateway is ingesting into, consistently', async () => {
    const gw = await startTestGateway({
      env: {
        OPENAI_API_KEY: 'sk-upstream',
        OPENAI_BASE_URL: `${upstream.url}/v1`,
        LOGDB_ENABLED: 'true',
        LOGDB_FTS_ENABLED: 'true',
        LOGDB_GROUPING_ENABLED: 'true',
        LOGDB_INGEST_INTERVAL_MS: '50',
      },
      files: { 'config.yml': CONFIG },
    });
    try {
      const logDir = gw.gateway.runtime.config.log.dir;
      const dbRoot = join(logDir, 'db');
      const first = await traffic(gw, ['okapi', 'narwhal', 'axolotl']);
      const deadline = Date.now() + 15_000;
      const grouped = (): number =>
        listPartitions(dbRoot).reduce((n, p) => {
          const db = new Database(p.path, { readonly: true });
          try {
            const row = db
              .prepare('SELECT COUNT(*) AS n FROM requests WHERE dialog_id IS NOT NULL')
              .get() as {
              n: number;
            };
            return n + row.n;
          } finally {
            db.close();
          }
        }, 0);
      while (grouped() < first.length && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(storedRows(dbRoot).length).toBe(first.length);
      expect(grouped()).toBe(first.length);

      // Traffic (and so background ingest) keeps going while the bundle is made.
      const more = traffic(
        gw,
        Array.from({ length: 12 }, (_, i) => `word${i}`),
      );
      const out = join(work, 'live.tgz');
      await ok(['bundle', 'create', '--since', SINCE, '--to', TO, '--out', out], { LOG_DIR: logDir });
      const later = await more;
      await ok(['bundle', 'verify', out]);

      const dest = join(work, 'live-import', 'db');
      await ok(['bundle', 'import', out, '--dest', dest]);
      const imported = storedRows(dest).map((r) => r.request_id);
      const all = [...first, ...later];
      expect(imported.length).toBeGreaterThanOrEqual(first.length);
      for (const id of first) expect(imported).toContain(id);
      for (const id of imported) expect(all).toContain(id);
      for (const partition of listPartitions(dest)) {
        const db = new Database(partition.path, { readonly: true });
        try {
          expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
          // Dialog ids assigned on the source server travel with the rows.
          const ungrouped = db.prepare('SELECT request_id FROM requests WHERE dialog_id IS NULL').all() as {
            request_id: string;
          }[];
          for (const row of ungrouped) expect(first).not.toContain(row.request_id);
        } finally {
          db.close();
        }
      }
    } finally {
      await gw.stop();
    }
  });
});

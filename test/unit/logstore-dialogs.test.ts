// Dialog grouping on real partitions: the window, the group key, the header's precedence,
// stability across re-runs and clears, and dialogs carried across a partition boundary.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RequestRecord } from '../../src/logs/request-record.js';
import { assignDialogs, assignNewDialogs, clearDialogs } from '../../src/logstore/dialogs.js';
import { extractRequestText } from '../../src/logstore/fts-text.js';
import { parseDay, partitionPath } from '../../src/logstore/partitions.js';
import { createProgress } from '../../src/logstore/progress.js';
import { type Db, insertRequest, openPartition, rowFromRecord } from '../../src/logstore/schema.js';
import { translateQuery } from '../../src/logstore/search.js';

const MIN = 60_000;

function rec(id: string, ms: number, over: Partial<RequestRecord> = {}): RequestRecord {
  return {
    id,
    client_request_id: null,
    time: new Date(ms).toISOString(),
    server_id: 'srv',
    endpoint: '/v1/chat/completions',
    method: 'POST',
    client_key_hash: 'alice',
    client_ip: '127.0.0.1',
    user_agent: null,
    dialog_id: null,
    model_requested: 'gpt-4',
    model_mapped: 'openai/gpt-4',
    provider: 'openrouter',
    key_id: null,
    status: 200,
    latency_ms: 1,
    ttfb_ms: null,
    overhead_ms: null,
    stream: false,
    attempts: [],
    usage: null,
    cost: null,
    request: null,
    response: null,
    error: null,
    ...over,
  };
}

function dialogs(db: Db): Record<string, string | null> {
  const rows = db.prepare('SELECT request_id, dialog_id FROM requests').all() as {
    request_id: string;
    dialog_id: string | null;
  }[];
  return Object.fromEntries(rows.map((r) => [r.request_id, r.dialog_id]));
}

describe('dialog grouping', () => {
  const day1 = Date.UTC(2025, 8, 1);
  const day2 = Date.UTC(2025, 8, 2);

  function store(): { root: string; first: string; second: string } {
    const root = mkdtempSync(join(tmpdir(), 'logstore-dialogs-'));
    const first = partitionPath(root, parseDay('2025-09-01', 'x'), 'daily');
    const second = partitionPath(root, parseDay('2025-09-02', 'x'), 'daily');
    const a = openPartition(first);
    const late = day2 - 10 * MIN;
    for (const r of [
      rec('a1', day1 + 60 * MIN),
      rec('a2', day1 + 80 * MIN), // 20 min later: same dialog
      rec('a3', day1 + 200 * MIN), // 120 min later: a new dialog
      rec('b1', day1 + 70 * MIN, { client_key_hash: 'bob' }), // another key
      rec('m1', day1 + 75 * MIN, { model_mapped: 'anthropic/claude' }), // another model
      rec('e1', day1 + 76 * MIN, { endpoint: '/v1/embeddings' }), // another endpoint
      rec('h1', day1 + 81 * MIN, { dialog_id: 'from-header' }), // the client's own id
      rec('x1', late),
    ])
      insertRequest(a, rowFromRecord(r));
    a.close();
    const b = openPartition(second);
    insertRequest(b, rowFromRecord(rec('x2', day2 + 5 * MIN))); // 15 min after x1, across midnight
    insertRequest(b, rowFromRecord(rec('x3', day2 + 60 * MIN)));
    b.close();
    return { root, first, second };
  }

  it('groups by key, endpoint and model within the window; the header wins', () => {
    const { root, first, second } = store();
    const result = assignDialogs({ dbRoot: root, windowMinutes: 30 });
    expect(result.partitions).toBe(2);
    const a = openPartition(first);
    const d = dialogs(a);
    a.close();
    expect(d.a1).toMatch(/^dlg_[0-9a-f]{20}$/);
    expect(d.a2).toBe(d.a1);
    expect(d.a3).not.toBe(d.a1);
    for (const other of ['b1', 'm1', 'e1']) expect(d[other]).not.toBe(d.a1);
    expect(d.h1).toBe('from-header');
    const b = openPartition(second);
    const d2 = dialogs(b);
    b.close();
    expect(d2.x2).toBe(d.x1);
    expect(d2.x3).not.toBe(d.x1);
  });

  it('is stable: a re-run changes nothing, a clear and re-run gives the same ids, a range keeps carried ids', () => {
    const { root, first, second } = store();
    assignDialogs({ dbRoot: root, windowMinutes: 30 });
    const read = () => {
      const a = openPartition(first);
      const b = openPartition(second);
      const all = { ...dialogs(a), ...dialogs(b) };
      a.close();
      b.close();
      return all;
    };
    const before = read();
    expect(assignDialogs({ dbRoot: root, windowMinutes: 30 }).changed).toBe(0);
    const cleared = clearDialogs({ dbRoot: root });
    expect(cleared.changed).toBe(Object.keys(before).length - 1); // the header's id stays
    expect(read().h1).toBe('from-header');
    // Only the second day: x2 still continues the dialog that began on the first day.
    assignDialogs({ dbRoot: root, windowMinutes: 30 });
    clearDialogs({ dbRoot: root, since: parseDay('2025-09-02', 'x') });
    assignDialogs({ dbRoot: root, since: parseDay('2025-09-02', 'x'), windowMinutes: 30 });
    expect(read()).toEqual(before);
    // A wider window joins a3 to a1's dialog.
    assignDialogs({ dbRoot: root, windowMinutes: 180 });
    const wide = read();
    expect(wide.a3).toBe(wide.a1);
  });

  it('assigns only new rows incrementally, continuing open dialogs (the in-server step)', () => {
    const root = mkdtempSync(join(tmpdir(), 'logstore-dialogs-new-'));
    const db = openPartition(partitionPath(root, parseDay('2025-09-01', 'x'), 'daily'));
    insertRequest(db, rowFromRecord(rec('n1', day1 + MIN)));
    expect(assignNewDialogs(db, 30)).toBe(1);
    insertRequest(db, rowFromRecord(rec('n2', day1 + 10 * MIN)));
    insertRequest(db, rowFromRecord(rec('n3', day1 + 100 * MIN)));
    expect(assignNewDialogs(db, 30)).toBe(2);
    const d = dialogs(db);
    expect(d.n2).toBe(d.n1);
    expect(d.n3).not.toBe(d.n1);
    expect(assignNewDialogs(db, 30)).toBe(0);
    db.close();
  });
});

describe('FTS text and progress', () => {
  it('splits message text by author, with tool-call arguments and the answer', () => {
    const text = extractRequestText(
      {
        messages: [
          { role: 'system', content: 'Be terse.' },
          { role: 'user', content: [{ type: 'text', text: 'Weather in Oslo?' }] },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ function: { name: 'weather', arguments: '{"city":"Oslo"}' } }],
          },
          { role: 'tool', content: 'rain, 7 C' },
        ],
      },
      { choices: [{ message: { role: 'assistant', content: 'Rainy, 7 degrees.' } }] },
    );
    expect(text).toEqual({
      system_text: 'Be terse.',
      user_text: 'Weather in Oslo?',
      assistant_text: '',
      tool_text: 'weather\n{"city":"Oslo"}\nrain, 7 C',
      answer_text: 'Rainy, 7 degrees.',
    });
  });

  it("rewrites the seed's FTS4 NEAR/N into FTS5 NEAR(), leaving the rest alone", () => {
    expect(translateQuery('timeout NEAR/3 retry')).toBe('NEAR(timeout retry, 3)');
    expect(translateQuery('"rate limit" NEAR retry')).toBe('NEAR("rate limit" retry)');
    expect(translateQuery('NEAR(a b, 2) OR c*')).toBe('NEAR(a b, 2) OR c*');
  });

  it('draws a bar on a terminal and plain lines elsewhere', () => {
    const sink = (tty: boolean) => {
      const out: string[] = [];
      return { out, stream: Object.assign({ write: (s: string) => out.push(s) > 0 }, { isTTY: tty }) };
    };
    const plain = sink(false);
    const p = createProgress({ label: 'ingest', total: 100, stream: plain.stream as never });
    for (let i = 0; i < 100; i++) p.add(1);
    p.done('ok');
    expect(plain.out.length).toBeLessThanOrEqual(12);
    expect(plain.out.every((line) => line.endsWith('\n') && !line.includes('\r'))).toBe(true);
    expect(plain.out.at(-1)).toMatch(/^ingest: done in [\d.]+s; ok\n$/);
    const tty = sink(true);
    const bar = createProgress({ label: 'fts', total: 10, stream: tty.stream as never });
    bar.add(5);
    bar.done();
    expect(tty.out[0]).toMatch(/^\rfts \[#{15}-{15}\]\s+50%/);
  });
});

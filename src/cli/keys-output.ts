// How `ai-proxy keys` prints: a table for list, one field per line for show, the key alone on
// stdout for create and rotate (so a script can capture it) with what it is on stderr. Never a
// key in list or show.
import { describePolicy, toWire, type WireKey } from '../managed-keys/key-wire.js';
import type { ManagedKey } from '../managed-keys/types.js';

export type Usage = ReadonlyMap<string, Record<string, unknown>>;

function out(text: string): void {
  process.stdout.write(text);
}

function when(iso: string | null): string {
  return iso === null ? 'never' : iso.replace(/\.000Z$/, 'Z');
}

function usageText(usage: Record<string, unknown> | undefined): string {
  if (usage === undefined) return '';
  return Object.entries(usage)
    .map(([name, value]) => `${name}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
    .join(' ');
}

export function printJson(value: unknown): void {
  out(`${JSON.stringify(value, null, 2)}\n`);
}

export function printList(records: readonly ManagedKey[], usage: Usage | undefined, json: boolean): void {
  const now = Date.now();
  const wires = records.map((record) => toWire(record, now, usage?.get(record.id)));
  if (json) {
    printJson({ object: 'list', data: wires });
    return;
  }
  if (wires.length === 0) {
    out('No managed keys. Create one with: ai-proxy keys create --name NAME\n');
    return;
  }
  const rows = wires.map((wire, i) => [
    wire.id,
    wire.name,
    wire.owner ?? '-',
    wire.status,
    when(wire.expires_at),
    describePolicy((records[i] as ManagedKey).policy),
    usageText(wire.usage),
  ]);
  const header = ['ID', 'NAME', 'OWNER', 'STATUS', 'EXPIRES', 'POLICY', usage === undefined ? '' : 'USAGE'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  for (const row of [header, ...rows]) {
    out(
      `${row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd()}\n`,
    );
  }
}

export function printKey(
  record: ManagedKey,
  usage: Record<string, unknown> | undefined,
  json: boolean,
): void {
  const wire = toWire(record, Date.now(), usage);
  if (json) {
    printJson(wire);
    return;
  }
  const lines: [string, string][] = [
    ['id', wire.id],
    ['name', wire.name],
    ['owner', wire.owner ?? '-'],
    ['status', wire.status],
    ['key hash', `${wire.key_hash} (client_key_hash in the request log)`],
    ['created', when(wire.created_at)],
    ['updated', when(wire.updated_at)],
    ['expires', when(wire.expires_at)],
    ['policy', describePolicy(record.policy)],
  ];
  if (wire.usage !== undefined) lines.push(['usage', usageText(wire.usage)]);
  for (const [label, value] of lines) out(`${`${label}:`.padEnd(10)}${value}\n`);
}

/** The key once: alone on stdout, or in the JSON; what it is and that it is not kept, on stderr. */
export function printNewKey(
  key: string,
  record: ManagedKey,
  json: boolean,
  verb: 'Created' | 'Rotated',
): void {
  const wire: WireKey & { key: string } = { ...toWire(record, Date.now()), key };
  if (json) printJson(wire);
  else out(`${key}\n`);
  process.stderr.write(
    `${verb} ${record.id} (${record.name}): ${describePolicy(record.policy)}; expires ${when(wire.expires_at)}.\n` +
      'The key is shown this once: only its hash is kept, so store it now.\n' +
      (verb === 'Rotated'
        ? 'The previous key stops working on every running gateway within a second.\n'
        : ''),
  );
}

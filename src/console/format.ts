// How numbers, money and times read on the console's pages.

export function count(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  return Math.round(value).toLocaleString('en-US');
}

export function money(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  if (value === 0) return '$0';
  // Three significant digits for small sums: $0.00321, not $0.003210 or $0.00.
  if (value < 0.01) return `$${Number(value.toPrecision(3))}`;
  if (Number.isInteger(value)) return `$${value}`;
  return `$${value.toFixed(value < 1 ? 4 : 2)}`;
}

export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(2)} s`;
}

/** An ISO time as local date and time to the second. */
export function when(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export function percent(used: number, limit: number | undefined): number | undefined {
  if (limit === undefined || limit <= 0) return undefined;
  return Math.min(100, (used / limit) * 100);
}

/** A client's label: its managed key's name when it has one, else its short hash. */
export function clientLabel(hash: string | null, names: Record<string, string>): string {
  if (hash === null) return '(no key)';
  return names[hash] === undefined ? hash : `${names[hash]} (${hash.slice(0, 8)})`;
}

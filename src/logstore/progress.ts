// Progress for long log-store work (SPEC §9): a bar redrawn in place on a terminal, plain lines
// otherwise (CI, pipes, tests). Always on stderr, so stdout stays clean for --json output.
//
// API:
//   createProgress({ label, total?, unit?, stream?, tty? }) → Progress
//   progress.add(n)        n more units done
//   progress.setTotal(n)   the total became known (or grew)
//   progress.done(summary?) ends the bar / prints the final line
//   silentProgress          a Progress that prints nothing (the in-server ingest uses it)

export interface Progress {
  add(n: number): void;
  setTotal(total: number): void;
  done(summary?: string): void;
}

export interface ProgressOptions {
  label: string;
  total?: number;
  /** Shown after the counts: 'bytes' prints MB, anything else as is. */
  unit?: string;
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Overrides the stream's isTTY (tests). */
  tty?: boolean;
  /**
   * Without a terminal: `steps` prints a line per 10% (long ingests, where the steps say how far it
   * got); `periodic` prints a line only every PERIODIC_LINE_MS while work goes on, then the end
   * line, so a short job (a small bundle) prints one line per phase instead of a dozen.
   */
  plainLines?: 'steps' | 'periodic';
}

/** `periodic` plain lines: at most one this often. */
export const PERIODIC_LINE_MS = 10_000;

export const silentProgress: Progress = {
  add() {},
  setTotal() {},
  done() {},
};

function amount(n: number, unit: string | undefined): string {
  if (unit === 'bytes') return `${(n / 1_048_576).toFixed(1)} MB`;
  return unit === undefined ? String(n) : `${n} ${unit}`;
}

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? stream.isTTY === true;
  let total = options.total ?? 0;
  let current = 0;
  let lastDraw = 0;
  // Periodic lines start counting at 0 = the first PERIODIC_LINE_MS, which prints nothing.
  let lastPercentLine = options.plainLines === 'periodic' ? 0 : -1;
  const started = Date.now();

  const percent = (): number => (total > 0 ? Math.min(100, Math.floor((current / total) * 100)) : 0);

  const draw = (force: boolean): void => {
    const now = Date.now();
    if (tty) {
      if (!force && now - lastDraw < 100) return;
      lastDraw = now;
      const width = 30;
      const filled = total > 0 ? Math.round((current / total) * width) : 0;
      const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
      const counts =
        total > 0
          ? `${amount(current, options.unit)}/${amount(total, options.unit)}`
          : amount(current, options.unit);
      stream.write(`\r${options.label} [${bar}] ${String(percent()).padStart(3)}% ${counts}\x1b[K`);
      return;
    }
    // Plain lines: one per 10% (or every 2 s when the total is unknown), never a flood; or, when
    // periodic, one per PERIODIC_LINE_MS.
    const step =
      options.plainLines === 'periodic'
        ? Math.floor((now - started) / PERIODIC_LINE_MS)
        : total > 0
          ? Math.floor(percent() / 10)
          : Math.floor((now - started) / 2000);
    if (!force && step === lastPercentLine) return;
    lastPercentLine = step;
    const counts =
      total > 0
        ? `${percent()}% (${amount(current, options.unit)} of ${amount(total, options.unit)})`
        : amount(current, options.unit);
    stream.write(`${options.label}: ${counts}\n`);
  };

  return {
    add(n: number) {
      current += n;
      draw(false);
    },
    setTotal(next: number) {
      total = next;
    },
    done(summary?: string) {
      if (tty) {
        draw(true);
        stream.write('\n');
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      stream.write(`${options.label}: done in ${seconds}s${summary ? `; ${summary}` : ''}\n`);
    },
  };
}

// Bundle work reports phases (snapshot, checksum, write, verify, merge); the log store's reporter
// draws each as a bar on a terminal, or otherwise (pipes, CI, cron) prints each phase's end line
// and a progress line only every ~10 s, on stderr.
import type { BundleProgress } from '../logstore/bundle/progress.js';
import { createProgress, type Progress } from '../logstore/progress.js';

export function cliBundleProgress(prefix: string): BundleProgress {
  let current: Progress | undefined;
  return {
    start(label, total, unit) {
      current?.done();
      current = createProgress({ label: `${prefix} ${label}`, total, unit, plainLines: 'periodic' });
    },
    add(n) {
      current?.add(n);
    },
    finish() {
      current?.done();
      current = undefined;
    },
  };
}

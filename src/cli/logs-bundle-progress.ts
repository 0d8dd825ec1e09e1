// Bundle work reports phases of files; the log store's reporter draws each as a bar on a terminal
// or plain lines otherwise, on stderr.
import type { BundleProgress } from '../logstore/bundle/progress.js';
import { createProgress, type Progress } from '../logstore/progress.js';

export function cliBundleProgress(prefix: string): BundleProgress {
  let current: Progress | undefined;
  return {
    start(label, total) {
      current?.done();
      current = createProgress({ label: `${prefix} ${label}`, total, unit: 'files' });
    },
    tick() {
      current?.add(1);
    },
    finish() {
      current?.done();
      current = undefined;
    },
  };
}

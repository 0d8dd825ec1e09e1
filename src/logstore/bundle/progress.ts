// What the bundle operations report while they work; the CLI turns it into a bar or plain lines.
export interface BundleProgress {
  /** A new phase of `total` units: files, or bytes where one file may be large. */
  start(label: string, total: number, unit: 'files' | 'bytes'): void;
  /** `n` more units done. */
  add(n: number): void;
  finish(): void;
}

export const silentProgress: BundleProgress = {
  start() {},
  add() {},
  finish() {},
};

// What the bundle operations report while they work; the CLI turns it into a bar or plain lines.
export interface BundleProgress {
  /** A new phase of `total` steps (files). */
  start(label: string, total: number): void;
  /** One step done; `detail` names the file. */
  tick(detail?: string): void;
  finish(): void;
}

export const silentProgress: BundleProgress = {
  start() {},
  tick() {},
  finish() {},
};

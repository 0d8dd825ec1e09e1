// The one error the bundle commands raise for bad input or a bad bundle: its message is what the
// CLI prints, so it always names the file (or the entry inside the bundle) at fault.
export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

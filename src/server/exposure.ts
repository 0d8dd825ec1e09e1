// The one start-up rule about exposure: a gateway without client keys runs only on loopback.
import type { Config } from '../config/types.js';
import { isLoopbackHost } from './client-auth.js';

export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

export function checkExposure(config: Config): void {
  if (config.clientKeys.length === 0 && !isLoopbackHost(config.host)) {
    throw new StartupError(
      `No client key is configured and the gateway would listen on ${config.host}, which is not a loopback address. Set API_KEYS, run \`ai-proxy generate-key\`, or listen on 127.0.0.1.`,
    );
  }
}

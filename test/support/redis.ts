// Whether a Redis answers at REDIS_URL (default redis://127.0.0.1:6379). Under REQUIRE_REDIS=1
// (as .ci/run sets) a missing Redis fails the suite; otherwise those tests are skipped, saying why.
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function redisAnswers(): Promise<boolean> {
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** Resolves whether to run Redis tests; throws when REQUIRE_REDIS=1 and Redis is not there. */
export async function redisForTests(): Promise<boolean> {
  const up = await redisAnswers();
  if (up) return true;
  if (process.env.REQUIRE_REDIS === '1') {
    throw new Error(`REQUIRE_REDIS=1 but no Redis answers at ${REDIS_URL}`);
  }
  console.warn(
    `Redis tests skipped: no Redis answers at ${REDIS_URL} (set REDIS_URL, or REQUIRE_REDIS=1 to fail)`,
  );
  return false;
}

export function uniquePrefix(name: string): string {
  return `ai-proxy-test:${name}:${process.pid}:${Date.now()}:`;
}

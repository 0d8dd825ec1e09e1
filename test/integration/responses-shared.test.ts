// Two gateway instances sharing one Redis: a bridged conversation started on one continues on the
// other with previous_response_id, and a stored response is retrieved or deleted from either.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { REDIS_URL, redisForTests, uniquePrefix } from '../support/redis.js';

const haveRedis = await redisForTests();

describe.runIf(haveRedis)('stored responses shared through Redis', () => {
  let upstream: ProviderEmulator;
  let first: TestGateway;
  let second: TestGateway;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    const env = {
      GROQ_API_KEY: 'gsk-shared-0001',
      GROQ_BASE_URL: `${upstream.url}/openai/v1`,
      REDIS_URL,
      REDIS_KEY_PREFIX: uniquePrefix('responses'),
    };
    const files = { 'config.yml': 'model_mappings:\n  chat-only: "groq:llama-3.3-70b"\n' };
    first = await startTestGateway({ env, files });
    second = await startTestGateway({ env, files });
  });
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    await upstream?.close();
  });

  it('continues a conversation on the other instance', async () => {
    upstream.enqueue({ kind: 'chat', content: 'ANSWER-ON-FIRST' });
    const one = await first.client().responses.create({ model: 'chat-only', input: 'QUESTION-ON-FIRST' });

    upstream.enqueue({ kind: 'chat', content: 'ANSWER-ON-SECOND' });
    const two = await second
      .client()
      .responses.create({ model: 'chat-only', input: 'QUESTION-ON-SECOND', previous_response_id: one.id });
    expect(two.output_text).toBe('ANSWER-ON-SECOND');
    const sent = JSON.stringify(upstream.requests[1]?.body);
    expect(sent).toContain('QUESTION-ON-FIRST');
    expect(sent).toContain('ANSWER-ON-FIRST');

    // Either instance sees both, and a delete on one is seen by the other.
    expect((await first.client().responses.retrieve(two.id)).output_text).toBe('ANSWER-ON-SECOND');
    await second.client().responses.delete(one.id);
    await expect(first.client().responses.retrieve(one.id)).rejects.toMatchObject({ status: 404 });
  });
});

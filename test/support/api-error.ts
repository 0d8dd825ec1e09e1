// The SDK's error from a call that must fail: anything else (a success, another error) fails the test.
import { APIError } from 'openai';

export async function failureOf(call: Promise<unknown>): Promise<APIError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof APIError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

// POST /v1/messages/count_tokens (issue 13): being built; registered here so the route's module has
// its place in the app.
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../runtime.js';

export function registerCountTokensRoute(_app: FastifyInstance, _runtime: Runtime): void {}

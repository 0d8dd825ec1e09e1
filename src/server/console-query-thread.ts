// The console's query thread: runs the log-store reads of console-queries.ts one at a time, in
// the order they come, so a long one holds this thread and never the gateway's event loop.
// `ready` tells the runner the modules loaded (a thread that dies before it cannot start at all).
import { parentPort } from 'node:worker_threads';
import { answerRequest, type QueryReply, type QueryRequest } from './console-queries.js';

const port = parentPort;
if (port === null) throw new Error('console-query-thread.js runs as a worker thread');
port.on('message', (request: QueryRequest) => port.postMessage(answerRequest(request) satisfies QueryReply));
port.postMessage({ type: 'ready' } satisfies QueryReply);

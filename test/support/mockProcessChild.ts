import { MockLlmServer } from '../mock/mockLlmServer';
import type { Reply, Request } from './mockProcess';

/** The server side of `MockLlmProcess`: a mock LLM server scripted over IPC by its parent. */
async function serve(): Promise<void> {
  const server = await MockLlmServer.start();
  const send = (reply: Reply) => process.send?.(reply);
  process.on('message', (request: Request) => {
    switch (request.op) {
      case 'script':
        server.reset();
        server.enqueue(...request.behaviours);
        return send({ id: request.id });
      case 'requests':
        // Headers stay here: they are not needed, and the parent's copies would only cost time.
        return send({ id: request.id, requests: server.requests.map((r) => ({ ...r, headers: {} })) });
      case 'close':
        void server.close().then(() => {
          send({ id: request.id });
          process.exit(0);
        });
    }
  });
  send({ id: 0, baseUrl: server.baseUrl });
}

void serve();

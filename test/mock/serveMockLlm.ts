import { MockLlmServer } from './mockLlmServer';

/** Runs the mock LLM server on its own: `node out/test/mock/serveMockLlm.js [PORT]`. */
async function main(): Promise<void> {
  const port = Number(process.argv[2] ?? 0);
  const server = await MockLlmServer.start(port);
  console.log(`mock LLM server listening at ${server.baseUrl}`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();

import { parentPort } from 'node:worker_threads';
import { bpeCount } from './bpeCount';

/** Worker entry: answers `{ id, texts }` with `{ id, counts }` (or `{ id, error }`). */
export interface CountRequest {
  id: number;
  texts: string[];
}
export type CountReply = { id: number; counts: number[] } | { id: number; error: string };

parentPort?.on('message', (request: CountRequest) => {
  let reply: CountReply;
  try {
    reply = { id: request.id, counts: request.texts.map(bpeCount) };
  } catch (error) {
    reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage(reply);
});

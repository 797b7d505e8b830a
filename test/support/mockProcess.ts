import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from '../host/testResults';
import type { Behaviour, RecordedRequest } from '../mock/mockLlmServer';

/**
 * The mock LLM server in a process of its own, as a real model server is: its timers, JSON and
 * garbage collection then do not share the event loop of the code being measured. The parent
 * scripts it over IPC (outside the timed parts); the server side is `mockProcessChild.ts`.
 */

export type Op = { op: 'script'; behaviours: Behaviour[] } | { op: 'requests' } | { op: 'close' };
export type Request = Op & { id: number };
export type Reply = { id: number; requests?: RecordedRequest[]; baseUrl?: string };

export class MockLlmProcess {
  private serial = 0;
  private readonly pending = new Map<number, (reply: Reply) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
  ) {
    child.on('message', (reply: Reply) => {
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
  }

  static async start(): Promise<MockLlmProcess> {
    // A file of its own, by path: this module is bundled into whoever imports it.
    const child = fork(path.join(REPO_ROOT, 'out', 'test', 'support', 'mockProcessChild.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const baseUrl = await new Promise<string>((resolve, reject) => {
      child.once('message', (reply: Reply) => (reply.baseUrl ? resolve(reply.baseUrl) : reject(new Error('the mock process did not start'))));
      child.once('exit', (code) => reject(new Error(`the mock process exited with ${code}`)));
    });
    return new MockLlmProcess(child, baseUrl);
  }

  /** Forgets earlier requests and queued behaviours, then queues these for the next requests. */
  async script(...behaviours: Behaviour[]): Promise<void> {
    await this.call({ op: 'script', behaviours });
  }

  /** The requests since the last `script`. */
  async requests(): Promise<RecordedRequest[]> {
    return (await this.call({ op: 'requests' })).requests ?? [];
  }

  async close(): Promise<void> {
    await this.call({ op: 'close' });
    this.child.disconnect();
  }

  private call(request: Op): Promise<Reply> {
    const id = ++this.serial;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.send({ ...request, id });
    });
  }
}

import { availableParallelism, loadavg } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { ChatRequest } from '../../src/core/providers/chatProvider';
import { defaultSettings, type HttpProviderConfig } from '../../src/core/config/settingsSchema';
import { HttpProviderClients } from '../../src/core/providers/providerFactory';
import { type Behaviour, MockLlmServer, type RecordedRequest } from '../mock/mockLlmServer';
import { closedPort } from '../support/providerCalls';
import { heapAfterGc, mb, ms, percentile, spread } from './figures';

/**
 * npm run bench:providers — what the provider path (OpenAI SDK, stream parsing, error mapping)
 * costs on top of the network, against the loopback mock server with a fixed 50 ms latency.
 * The baseline is a raw `fetch` of the same request measured in the same run, interleaved with
 * the provider calls, so machine speed and timer noise hit both alike; the difference is the
 * comparable number. Then 50 concurrent streams, watching for event-loop stalls (again next to
 * the same streams read by raw `fetch`), and the heap. The mock server runs in a worker thread so
 * its own work neither stalls nor fills the event loop and heap being measured, as a real
 * server would not.
 * Targets (from the issue): provider − raw <= 3 ms at p95; no event-loop stall above 20 ms.
 * Figures are for humans: the process exits 0 whatever they are.
 */

interface BenchProvider {
  provider: HttpProviderConfig;
  apiKey: string;
}

const LATENCY_MS = 50;
const CHUNKS = 20;
const WARMUP_PAIRS = 20;
const PAIRS = 200;
const STREAMS = 50;
const ROUNDS = 5;
const STREAM_CHUNK_DELAY_MS = 5;
const OVERHEAD_TARGET_MS = 3;
const STALL_TARGET_MS = 20;
const API_KEY = 'sk-bench-not-a-real-key';

// A realistic answer for an explain request: prose, a code fence, about 400 characters.
const ANSWER = [
  'This function debounces `save()`: each call clears the pending timer and starts a new one, so',
  'the file is written only after the user has stopped typing for 300 ms.\n\n',
  '```ts\nclearTimeout(timer);\ntimer = setTimeout(save, 300);\n```\n\n',
  'One catch: if the editor closes inside that window the last edit is lost. Call `flush()` from',
  ' the dispose handler to write it immediately.',
].join(' ');

const request: ChatRequest = {
  model: 'mock-small',
  messages: [
    { role: 'system', content: 'You explain code to a developer in a few short paragraphs.' },
    { role: 'user', content: 'Explain this:\n\nlet timer;\nfunction onChange() {\n  clearTimeout(timer);\n  timer = setTimeout(save, 300);\n}' },
  ],
  maxOutputTokens: 512,
  temperature: 0.2,
};

interface Sample {
  total: number;
  /** Time this thread's event loop was busy during the call (the rest it waited for the network). */
  busy: number;
  firstText: number;
  text: string;
}

const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

/** The extension's cache of provider clients: one SDK client per (provider, key, timeouts). */
const clients = new HttpProviderClients();

/**
 * Provider path as the extension runs it: the provider client from the host's cache (built on
 * first use), then `streamChat` to the end, with the default timeouts' timers running.
 */
async function viaProvider(options: BenchProvider): Promise<Sample> {
  const start = performance.now();
  const loopAtStart = performance.eventLoopUtilization();
  let firstText = NaN;
  const provider = clients.get(options.provider, options.apiKey, defaultSettings().request);
  const result = await provider.streamChat(
    request,
    () => {
      if (Number.isNaN(firstText)) firstText = performance.now() - start;
    },
    new AbortController().signal,
  );
  return { total: performance.now() - start, busy: performance.eventLoopUtilization(loopAtStart).active, firstText, text: result.text };
}

/**
 * Baseline: the least a client can do for the same answer. One `fetch` POST of the exact body
 * the provider sent (captured from the mock server), same headers that matter, then the SSE body
 * read to the end, split into lines, each `data:` JSON parsed and its delta text appended. So
 * both sides pay for HTTP, decoding and JSON parsing; the difference is the SDK and our wrapper.
 */
async function viaRawFetch(url: string, body: string): Promise<Sample> {
  const start = performance.now();
  const loopAtStart = performance.eventLoopUtilization();
  let firstText = NaN;
  let text = '';
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${API_KEY}` },
    body,
    redirect: 'manual',
    signal: new AbortController().signal,
  });
  if (!response.ok || !response.body) throw new Error(`raw fetch: HTTP ${response.status}`);
  const decoder = new TextDecoder();
  let buffered = '';
  const onLine = (line: string) => {
    if (!line.startsWith('data:')) return;
    const data = line.slice(5).trim();
    if (data === '[DONE]') return;
    const event = JSON.parse(data) as { choices?: { delta?: { content?: string } }[] };
    const delta = event.choices?.[0]?.delta?.content;
    if (delta) {
      if (Number.isNaN(firstText)) firstText = performance.now() - start;
      text += delta;
    }
  };
  const reader = response.body.getReader();
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    buffered += decoder.decode(read.value, { stream: true });
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    lines.forEach(onLine);
  }
  onLine(buffered + decoder.decode());
  return { total: performance.now() - start, busy: performance.eventLoopUtilization(loopAtStart).active, firstText, text };
}

/** The longest gap between ticks of a 1 ms interval, minus the interval: a stall as a user feels it. */
function stallProbe(): () => number {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 1);
    last = now;
  }, 1);
  return () => {
    clearInterval(timer);
    return Math.max(worst, performance.now() - last - 1);
  };
}

/** What the main thread asks of the mock server in its worker. */
interface ServerCommand {
  id: number;
  reset?: boolean;
  enqueue?: Behaviour[];
  close?: boolean;
}

interface ServerReply {
  id: number;
  port: number;
  firstRequest?: RecordedRequest;
}

/** The worker's side: a MockLlmServer on loopback, driven by messages. */
async function serveMock(): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const server = await MockLlmServer.start();
  port.on('message', (command: ServerCommand) => {
    void (async () => {
      if (command.reset) server.reset();
      if (command.enqueue) server.enqueue(...command.enqueue);
      const reply: ServerReply = { id: command.id, port: server.port, firstRequest: server.requests[0] };
      if (command.close) {
        await server.close();
        port.postMessage(reply);
        port.close();
        return;
      }
      port.postMessage(reply);
    })();
  });
  port.postMessage({ id: 0, port: server.port } satisfies ServerReply);
}

/** Epoch milliseconds with sub-millisecond precision, comparable across threads. */
const epochNow = () => performance.timeOrigin + performance.now();

/**
 * Cancellation: the user cancels as the first text arrives (the next piece is 2 s away); how long
 * until the server sees its socket close. And a closed port: how long until the call fails.
 */
async function cancellationAndClosedPort(server: RemoteMock, options: BenchProvider): Promise<void> {
  const piece = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
  const closeLatency: number[] = [];
  for (let i = 0; i < 20; i++) {
    await server.send({ reset: true, enqueue: [{ kind: 'raw', pieces: [piece('first'), piece(' second'), 'data: [DONE]\n\n'], pieceDelayMs: 2000 }] });
    const controller = new AbortController();
    let abortedAt = 0;
    const provider = clients.get(options.provider, options.apiKey, defaultSettings().request);
    await provider
      .streamChat(request, () => ((abortedAt = epochNow()), controller.abort()), controller.signal)
      .catch(() => undefined);
    let closedAt: number | undefined;
    for (let wait = 0; wait < 400 && closedAt === undefined; wait++) {
      closedAt = (await server.send({})).firstRequest?.closedAt;
      if (closedAt === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    closeLatency.push(closedAt === undefined ? Infinity : closedAt - abortedAt);
  }
  const closed = { id: 'closed', kind: 'openai' as const, baseUrl: `http://127.0.0.1:${await closedPort()}/v1`, auth: 'none' as const };
  const refused: number[] = [];
  const kinds = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    await clients
      .get(closed, undefined, defaultSettings().request)
      .streamChat(request, () => undefined, new AbortController().signal)
      .catch((error: { kind?: string; message?: string }) => kinds.add(`${error.kind}: ${error.message}`));
    refused.push(performance.now() - started);
  }
  console.log('\n== cancellation and a closed port (20 each)');
  console.log(`cancel → server sees the socket close: p50 ${ms(percentile(closeLatency, 50))}, max ${ms(Math.max(...closeLatency))} — target <= 100 ms: ${Math.max(...closeLatency) <= 100 ? 'PASS' : 'FAIL'}`);
  console.log(`closed port → ${[...kinds].join('; ')}`);
  console.log(`closed port → the call fails: p50 ${ms(percentile(refused, 50))}, max ${ms(Math.max(...refused))} — target < 1 s: ${Math.max(...refused) < 1000 ? 'PASS' : 'FAIL'}`);
}

/** The main thread's handle on the mock server in the worker. */
class RemoteMock {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: ServerReply) => void>();

  private constructor(
    private readonly worker: Worker,
    readonly port: number,
  ) {
    worker.on('message', (reply: ServerReply) => {
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
  }

  static async start(): Promise<RemoteMock> {
    const worker = new Worker(__filename, { workerData: 'mock-server' });
    const ready = await new Promise<ServerReply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    return new RemoteMock(worker, ready.port);
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  send(command: Omit<ServerCommand, 'id'>): Promise<ServerReply> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker.postMessage({ ...command, id });
    });
  }

  async close(): Promise<void> {
    await this.send({ close: true });
    await this.worker.terminate();
  }
}

async function sequential(server: RemoteMock, options: BenchProvider): Promise<void> {
  const latency: Behaviour = { kind: 'delay', ms: LATENCY_MS, then: { kind: 'reply', text: ANSWER, chunks: CHUNKS } };

  // Capture the request the provider really sends, so the baseline posts the same bytes.
  await server.send({ reset: true, enqueue: [latency] });
  await viaProvider(options);
  const sent = (await server.send({})).firstRequest;
  if (!sent) throw new Error('the mock server recorded no request');
  const body = JSON.stringify(sent.body);
  const url = `http://127.0.0.1:${server.port}${sent.path}`;

  const raw: Sample[] = [];
  const provider: Sample[] = [];
  const paired: number[] = [];
  let wrongText = 0;
  let heapAfterWarmup = 0;
  for (let i = 0; i < WARMUP_PAIRS + PAIRS; i++) {
    if (i === WARMUP_PAIRS) heapAfterWarmup = heapAfterGc();
    await server.send({ reset: true, enqueue: [latency, latency] });
    // Alternate which goes first (ABBA…) so neither side always runs right after the other.
    const order = i % 2 === 0 ? (['raw', 'provider'] as const) : (['provider', 'raw'] as const);
    const pair: Partial<Record<'raw' | 'provider', Sample>> = {};
    for (const side of order) pair[side] = side === 'raw' ? await viaRawFetch(url, body) : await viaProvider(options);
    if (i < WARMUP_PAIRS) continue;
    const r = pair.raw as Sample;
    const p = pair.provider as Sample;
    if (r.text !== ANSWER || p.text !== ANSWER) wrongText++;
    raw.push(r);
    provider.push(p);
    paired.push(p.total - r.total);
  }
  const heapAfter = heapAfterGc();

  const totals = (s: Sample[]) => s.map((x) => x.total);
  const firsts = (s: Sample[]) => s.map((x) => x.firstText);
  const busy = (s: Sample[]) => s.map((x) => x.busy);
  const overhead = percentile(totals(provider), 95) - percentile(totals(raw), 95);
  console.log(`\n== one request at a time: ${PAIRS} interleaved pairs after ${WARMUP_PAIRS} warm-up pairs (${LATENCY_MS} ms latency, ${ANSWER.length}-char answer in ${CHUNKS} chunks)`);
  console.log(`raw fetch + SSE parse: ${spread(totals(raw))}`);
  console.log(`provider.streamChat:   ${spread(totals(provider))}`);
  console.log(`time to first text:    raw p50 ${ms(percentile(firsts(raw), 50))}, p95 ${ms(percentile(firsts(raw), 95))}; provider p50 ${ms(percentile(firsts(provider), 50))}, p95 ${ms(percentile(firsts(provider), 95))}`);
  console.log(`event loop busy per request: raw p50 ${ms(percentile(busy(raw), 50))}, p95 ${ms(percentile(busy(raw), 95))}; provider p50 ${ms(percentile(busy(provider), 50))}, p95 ${ms(percentile(busy(provider), 95))}`);
  console.log(`paired difference (provider − raw, same pair): p50 ${ms(percentile(paired, 50))}, p95 ${ms(percentile(paired, 95))}, p99 ${ms(percentile(paired, 99))}`);
  console.log(`p95 overhead (provider p95 − raw p95): ${ms(overhead)} — target <= ${OVERHEAD_TARGET_MS} ms: ${verdict(overhead <= OVERHEAD_TARGET_MS)}${wrongText ? `; ${wrongText} pair(s) returned the wrong text` : ''}`);
  console.log(`JS heap after gc: after warm-up ${mb(heapAfterWarmup)}, after ${PAIRS} more pairs ${mb(heapAfter)}`);
}

interface RoundResult {
  correct: number;
  failed: string[];
  wall: number;
  /** Time the event loop was busy during the round. */
  busy: number;
  perStream: number[];
  /** Longest stall by the 1 ms interval probe and by the event-loop delay histogram, and the histogram's p99. */
  probe: number;
  histogramMax: number;
  p99: number;
}

async function round(server: RemoteMock, run: () => Promise<Sample>): Promise<RoundResult> {
  const behaviour: Behaviour = { kind: 'delay', ms: LATENCY_MS, then: { kind: 'reply', text: ANSWER, chunks: CHUNKS, chunkDelayMs: STREAM_CHUNK_DELAY_MS } };
  await server.send({ reset: true, enqueue: Array.from({ length: STREAMS }, () => behaviour) });
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const stopProbe = stallProbe();
  const start = performance.now();
  const loopAtStart = performance.eventLoopUtilization();
  const settled = await Promise.allSettled(Array.from({ length: STREAMS }, run));
  const wall = performance.now() - start;
  const busy = performance.eventLoopUtilization(loopAtStart).active;
  const probe = stopProbe();
  histogram.disable();
  const samples = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  return {
    correct: samples.filter((s) => s.text === ANSWER).length,
    failed: settled.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : [])),
    wall,
    busy,
    perStream: samples.map((s) => s.total),
    probe,
    // The histogram records whole intervals between its 1 ms samples; take the interval off.
    histogramMax: histogram.max / 1e6 - 1,
    p99: histogram.percentile(99) / 1e6 - 1,
  };
}

async function concurrent(server: RemoteMock, options: BenchProvider): Promise<void> {
  const sent = (await server.send({})).firstRequest;
  const url = `http://127.0.0.1:${server.port}${sent?.path ?? '/v1/chat/completions'}`;
  const body = JSON.stringify(sent?.body);
  console.log(`\n== ${STREAMS} concurrent streams, ${ROUNDS} rounds each way (${LATENCY_MS} ms latency, ${CHUNKS} chunks ${STREAM_CHUNK_DELAY_MS} ms apart; stall = longest the event loop was blocked)`);
  const worst = { provider: { stall: 0, p99: 0 }, raw: { stall: 0, p99: 0 } };
  let allOk = true;
  const heapBefore = heapAfterGc();
  for (let i = 1; i <= ROUNDS; i++) {
    const order = i % 2 === 1 ? (['raw', 'provider'] as const) : (['provider', 'raw'] as const);
    const line: string[] = [];
    for (const side of order) {
      const r = await round(server, side === 'raw' ? () => viaRawFetch(url, body) : () => viaProvider(options));
      const stall = Math.max(r.probe, r.histogramMax);
      worst[side].stall = Math.max(worst[side].stall, stall);
      worst[side].p99 = Math.max(worst[side].p99, r.p99);
      if (side === 'provider') allOk &&= r.correct === STREAMS;
      line.push(
        `${side} ${r.correct}/${STREAMS} ok, wall ${ms(r.wall)} (loop busy ${ms(r.busy)}), stream p95 ${ms(percentile(r.perStream, 95))}, stall ${ms(r.probe)} probe / ${ms(r.histogramMax)} histogram, delay p99 ${ms(r.p99)}${r.failed.length ? `, failed: ${r.failed[0]}` : ''}`,
      );
    }
    console.log(`round ${i}: ${line.join(' | ')}`);
  }
  const heapAfter = heapAfterGc();
  const stall = worst.provider.stall;
  console.log(`worst round, raw fetch:      stall ${ms(worst.raw.stall)}, loop delay p99 ${ms(worst.raw.p99)}`);
  console.log(`worst round, provider path:  stall ${ms(stall)}, loop delay p99 ${ms(worst.provider.p99)}; all ${ROUNDS * STREAMS} streams complete with the right text: ${allOk ? 'yes' : 'NO'}`);
  console.log(`target no stall above ${STALL_TARGET_MS} ms: ${verdict(allOk && stall <= STALL_TARGET_MS)}`);
  console.log(`JS heap after gc: before ${mb(heapBefore)}, after ${ROUNDS * STREAMS * 2} streams ${mb(heapAfter)}`);
}

async function main(): Promise<void> {
  const began = performance.now();
  // Wall-clock figures and stalls depend on what else the machine runs: say how busy it was.
  console.log(`node ${process.version}, ${availableParallelism()} CPU(s), load average ${loadavg()[0].toFixed(1)}; run with --expose-gc for exact memory figures (npm run bench:providers does)`);
  const server = await RemoteMock.start();
  try {
    const options: BenchProvider = {
      provider: { id: 'mock', kind: 'openai', baseUrl: server.baseUrl, auth: 'apiKey' },
      apiKey: API_KEY,
    };
    await sequential(server, options);
    await concurrent(server, options);
    await cancellationAndClosedPort(server, options);
    console.log(`\npeak RSS ${mb(process.resourceUsage().maxRSS * 1024)} (both threads); total ${((performance.now() - began) / 1000).toFixed(1)} s`);
  } finally {
    await server.close();
  }
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else if (workerData === 'mock-server') {
  void serveMock();
}

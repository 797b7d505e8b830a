import * as assert from 'node:assert/strict';
import type { Logger } from '../../src/core/log/logger';
import { otlpIds, otlpSpan, otlpTracesBody, SpendMetrics, TOKEN_USAGE_BOUNDS, unixNano, type OtlpKeyValue } from '../../src/core/spend/otlpExport';
import { mayCarryToken, OtlpExporter, otlpSignalUrl, type OtlpExporterOptions } from '../../src/core/spend/otlpExporter';
import type { SettleLine } from '../../src/core/spend/spendRecord';
import { SpendTelemetry } from '../../src/core/spend/spendTelemetry';
import { MockOtlpCollector, OK, type CollectorRequest } from '../mock/mockOtlpCollector';

const AT = Date.UTC(2025, 5, 1, 12, 0, 0, 123);

function settle(requestId: string, overrides: Partial<SettleLine> = {}): SettleLine {
  return {
    type: 'settle',
    requestId,
    at: AT,
    task: 'explain',
    language: 'typescript',
    model: 'gpt-4.1-mini',
    provider: 'openai',
    tokensIn: 1200,
    tokensOut: 300,
    estimated: false,
    usd: 0.0012,
    latencyMs: 250,
    attempts: 1,
    fallbackUsed: false,
    status: 'ok',
    tags: ['cheap'],
    ...overrides,
  };
}

class RecordingLogger implements Logger {
  readonly lines: string[] = [];
  trace(m: string) {
    this.lines.push(`trace ${m}`);
  }
  debug(m: string) {
    this.lines.push(`debug ${m}`);
  }
  info(m: string) {
    this.lines.push(`info ${m}`);
  }
  warn(m: string) {
    this.lines.push(`warn ${m}`);
  }
  error(m: string) {
    this.lines.push(`error ${m}`);
  }
  matching(pattern: RegExp): string[] {
    return this.lines.filter((l) => pattern.test(l));
  }
}

type AttributeValue = string | number | boolean;

/** OTLP key-values as a plain record, checking each value has exactly one typed field. */
function attributes(list: OtlpKeyValue[]): Record<string, AttributeValue> {
  return Object.fromEntries(
    list.map(({ key, value }) => {
      const fields = Object.entries(value);
      assert.equal(fields.length, 1, `${key} has one typed value`);
      const [type, raw] = fields[0];
      if (type === 'intValue') {
        assert.match(String(raw), /^\d+$/, `${key}: 64-bit integers are decimal strings`);
        return [key, Number(raw)];
      }
      return [key, raw as AttributeValue];
    }),
  );
}

interface TracesBody {
  resourceSpans: { resource: { attributes: OtlpKeyValue[] }; scopeSpans: { scope: { name: string }; spans: ReturnType<typeof otlpSpan>[] }[] }[];
}

function spansOf(request: CollectorRequest): ReturnType<typeof otlpSpan>[] {
  return (request.body as TracesBody).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
}

/** The attribute keys a span may carry: nothing that could hold a prompt, an answer or a path. */
const ALLOWED_SPAN_KEYS = new Set([
  'gen_ai.operation.name',
  'gen_ai.provider.name',
  'gen_ai.system',
  'gen_ai.request.model',
  'gen_ai.response.model',
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'coderoute.request_id',
  'coderoute.task',
  'coderoute.language',
  'coderoute.cost_usd',
  'coderoute.counterfactual_usd',
  'coderoute.estimated',
  'coderoute.attempts',
  'coderoute.fallback_used',
  'coderoute.premium_requests',
  'coderoute.status',
  'error.type',
]);

describe('OTLP export: the JSON body', () => {
  it('makes one client span per request, named and timed by the GenAI conventions', () => {
    const span = otlpSpan(settle('req-1', { counterfactualUsd: 0.02, premiumRequests: 1 }));
    assert.match(span.traceId, /^[0-9a-f]{32}$/);
    assert.match(span.spanId, /^[0-9a-f]{16}$/);
    assert.deepEqual(otlpIds('req-1'), { traceId: span.traceId, spanId: span.spanId }, 'ids follow from the request id');
    assert.notEqual(otlpIds('req-2').traceId, span.traceId);
    assert.equal(span.name, 'chat gpt-4.1-mini');
    assert.equal(span.kind, 3);
    assert.equal(span.endTimeUnixNano, '1748779200123000000');
    assert.equal(span.startTimeUnixNano, '1748779199873000000', 'start = settled at - latency');
    assert.equal(span.status, undefined, 'a successful call leaves the status unset');
    assert.deepEqual(attributes(span.attributes), {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4.1-mini',
      'gen_ai.response.model': 'gpt-4.1-mini',
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.usage.output_tokens': 300,
      'coderoute.request_id': 'req-1',
      'coderoute.task': 'explain',
      'coderoute.language': 'typescript',
      'coderoute.cost_usd': 0.0012,
      'coderoute.counterfactual_usd': 0.02,
      'coderoute.estimated': false,
      'coderoute.attempts': 1,
      'coderoute.fallback_used': false,
      'coderoute.premium_requests': 1,
      'coderoute.status': 'ok',
    });
  });

  it('marks failed calls as errors, not cancelled ones', () => {
    const failed = otlpSpan(settle('e', { status: 'error', attempts: 3, fallbackUsed: true }));
    assert.equal(failed.status?.code, 2);
    assert.equal(attributes(failed.attributes)['error.type'], 'error');
    const cancelled = otlpSpan(settle('c', { status: 'cancelled' }));
    assert.equal(cancelled.status, undefined);
    assert.equal(attributes(cancelled.attributes)['error.type'], undefined);
  });

  it('converts milliseconds to nanosecond strings exactly, fractions included', () => {
    assert.equal(unixNano(0), '0');
    assert.equal(unixNano(-5), '0', 'never before the epoch');
    assert.equal(unixNano(1.5), '1500000');
    assert.equal(unixNano(AT + 0.25), '1748779200123250000');
  });

  it('names the service and carries nothing but the allowed attributes', () => {
    const body = otlpTracesBody([settle('a', { tags: ['secret-tag'] }), settle('b', { status: 'orphaned' })], { serviceVersion: '1.2.3' });
    assert.deepEqual(attributes(body.resourceSpans[0].resource.attributes), { 'service.name': 'coderoute', 'service.version': '1.2.3' });
    const spans = body.resourceSpans[0].scopeSpans[0].spans;
    assert.equal(spans.length, 2);
    for (const span of spans) for (const { key } of span.attributes) assert.ok(ALLOWED_SPAN_KEYS.has(key), key);
    assert.doesNotMatch(JSON.stringify(body), /secret-tag/);
  });

  it('keeps cumulative cost and token-usage histograms', () => {
    const metrics = new SpendMetrics(AT - 1000);
    metrics.record(settle('a', { usd: 0.25, tokensIn: 3, tokensOut: 100 }));
    metrics.record(settle('b', { usd: 0.5, tokensIn: 100_000_000, tokensOut: 4 }));
    metrics.record(settle('c', { usd: 1, model: 'gpt-4.1', task: 'debug' }));
    const body = metrics.body(AT, { serviceVersion: 'test' });
    const [cost, tokens] = body.resourceMetrics[0].scopeMetrics[0].metrics;
    assert.equal(cost.name, 'coderoute.cost');
    assert.equal(cost.sum?.aggregationTemporality, 2);
    assert.equal(cost.sum?.isMonotonic, true);
    const costs = cost.sum!.dataPoints.map((p): Record<string, AttributeValue> => ({ ...attributes(p.attributes), usd: p.asDouble }));
    assert.deepEqual(
      costs.map((c) => `${c['gen_ai.request.model']}/${c['coderoute.task']}=${c.usd}`),
      ['gpt-4.1-mini/explain=0.75', 'gpt-4.1/debug=1'],
    );
    assert.equal(cost.sum!.dataPoints[0].startTimeUnixNano, unixNano(AT - 1000));
    assert.equal(cost.sum!.dataPoints[0].timeUnixNano, unixNano(AT));

    assert.equal(tokens.name, 'gen_ai.client.token.usage');
    assert.equal(tokens.unit, '{token}');
    const points = tokens.histogram!.dataPoints;
    const input = points.find((p) => attributes(p.attributes)['gen_ai.token.type'] === 'input' && attributes(p.attributes)['gen_ai.request.model'] === 'gpt-4.1-mini')!;
    assert.deepEqual(attributes(input.attributes), {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4.1-mini',
      'gen_ai.response.model': 'gpt-4.1-mini',
      'gen_ai.token.type': 'input',
    });
    assert.equal(input.count, '2');
    assert.equal(input.sum, 100_000_003);
    assert.equal(input.min, 3);
    assert.equal(input.max, 100_000_000);
    assert.deepEqual(input.explicitBounds, TOKEN_USAGE_BOUNDS);
    assert.equal(input.bucketCounts.length, TOKEN_USAGE_BOUNDS.length + 1);
    assert.equal(input.bucketCounts[1], '1', '3 tokens fall in (1, 4]');
    assert.equal(input.bucketCounts[TOKEN_USAGE_BOUNDS.length], '1', 'above the last bound');
    assert.equal(points.filter((p) => attributes(p.attributes)['gen_ai.token.type'] === 'output').length, 2);
  });

  it('appends the signal path to the endpoint', () => {
    assert.equal(otlpSignalUrl('http://localhost:4318', 'traces'), 'http://localhost:4318/v1/traces');
    assert.equal(otlpSignalUrl('http://localhost:4318/', 'metrics'), 'http://localhost:4318/v1/metrics');
    assert.equal(otlpSignalUrl('https://otel.example.com/otlp', 'traces'), 'https://otel.example.com/otlp/v1/traces');
    assert.equal(otlpSignalUrl('https://otel.example.com/v1/traces', 'metrics'), 'https://otel.example.com/v1/metrics');
  });

  it('sends the token only over https or to this machine', () => {
    assert.equal(mayCarryToken(new URL('https://otel.example.com')), true);
    assert.equal(mayCarryToken(new URL('http://localhost:4318')), true);
    assert.equal(mayCarryToken(new URL('http://127.0.0.1:4318')), true);
    assert.equal(mayCarryToken(new URL('http://[::1]:4318')), true);
    assert.equal(mayCarryToken(new URL('http://otel.example.com:4318')), false);
    assert.equal(mayCarryToken(new URL('http://10.0.0.5:4318')), false);
  });
});

describe('OTLP export: the exporter against a loopback collector', () => {
  let collector: MockOtlpCollector;
  let logger: RecordingLogger;
  const exporters: OtlpExporter[] = [];

  beforeEach(async () => {
    collector = await MockOtlpCollector.start();
    logger = new RecordingLogger();
  });

  afterEach(async () => {
    exporters.splice(0).forEach((e) => e.dispose());
    await collector.close();
  });

  function exporter(options: Partial<OtlpExporterOptions> = {}): OtlpExporter {
    const created = new OtlpExporter({ endpoint: collector.url, serviceVersion: '9.9.9', logger, flushIntervalMs: 60_000, retryDelayMs: 5, timeoutMs: 2000, ...options });
    exporters.push(created);
    return created;
  }

  it('posts OTLP JSON traces and metrics that parse, with the right ids and attributes', async () => {
    const e = exporter();
    e.record(settle('r1'));
    e.record(settle('r2', { model: 'gpt-4.1', provider: 'anthropic', usd: 0.5 }));
    await e.flush();
    const [traces] = collector.to('/v1/traces');
    assert.equal(traces.method, 'POST');
    assert.equal(traces.headers['content-type'], 'application/json');
    assert.equal(traces.headers.authorization, undefined, 'no token, no Authorization header');
    const body = traces.body as TracesBody;
    const resource = attributes(body.resourceSpans[0].resource.attributes);
    assert.deepEqual(Object.keys(resource), ['service.name', 'service.version', 'service.instance.id']);
    assert.equal(resource['service.name'], 'coderoute');
    assert.equal(resource['service.version'], '9.9.9');
    assert.match(String(resource['service.instance.id']), /^[0-9a-f-]{36}$/, 'one instance id per exporter (window)');
    const spans = spansOf(traces);
    assert.deepEqual(spans.map((s) => s.name), ['chat gpt-4.1-mini', 'chat gpt-4.1']);
    for (const span of spans) {
      assert.match(span.traceId, /^[0-9a-f]{32}$/);
      assert.match(span.spanId, /^[0-9a-f]{16}$/);
      assert.match(span.startTimeUnixNano, /^\d+$/);
    }
    assert.equal(attributes(spans[1].attributes)['gen_ai.provider.name'], 'anthropic');
    assert.equal(attributes(spans[1].attributes)['coderoute.cost_usd'], 0.5);

    const [metrics] = collector.to('/v1/metrics');
    assert.ok(metrics, 'metrics follow the traces');
    const metricsBody = metrics.body as { resourceMetrics: { resource: { attributes: OtlpKeyValue[] }; scopeMetrics: { metrics: { name: string }[] }[] }[] };
    assert.deepEqual(metricsBody.resourceMetrics[0].scopeMetrics[0].metrics.map((m) => m.name), ['coderoute.cost', 'gen_ai.client.token.usage']);
    assert.equal(attributes(metricsBody.resourceMetrics[0].resource.attributes)['service.instance.id'], resource['service.instance.id'], 'the same instance for both signals');
  });

  it('sends the bearer token when one is set', async () => {
    const e = exporter({ token: async () => 'tok-123' });
    e.record(settle('r1'));
    await e.flush();
    assert.ok(collector.requests.length >= 1);
    for (const request of collector.requests) assert.equal(request.headers.authorization, 'Bearer tok-123');
  });

  it('sends without a token when reading it fails', async () => {
    const e = exporter({ token: () => Promise.reject(new Error('keychain locked')) });
    e.record(settle('r1'));
    await e.flush();
    assert.equal(collector.to('/v1/traces')[0].headers.authorization, undefined);
    assert.equal(logger.matching(/could not read the collector token/).length > 0, true);
  });

  it('batches: a full batch goes at once, the rest on the timer', async () => {
    const e = exporter({ maxBatch: 2, flushIntervalMs: 30, metrics: false });
    for (const id of ['a', 'b', 'c']) e.record(settle(id));
    await collector.waitFor(2);
    const batches = collector.to('/v1/traces').map((r) => spansOf(r).map((s) => attributes(s.attributes)['coderoute.request_id']));
    assert.deepEqual(batches, [['a', 'b'], ['c']]);
  });

  it('does not follow a redirect, drops that batch, and delivers the next one', async () => {
    const elsewhere = await MockOtlpCollector.start();
    try {
      collector.reply = () => ({ kind: 'answer', status: 307, headers: { location: `${elsewhere.url}/v1/traces` } });
      const e = exporter({ token: async () => 'tok-123', metrics: false });
      e.record(settle('lost'));
      await assert.doesNotReject(e.flush());
      assert.equal(collector.requests.length, 1, 'a redirect is not retried');
      assert.equal(elsewhere.requests.length, 0, 'the redirect, and the token, went nowhere');
      assert.equal(logger.matching(/warn telemetry: dropped 1 span\(s\): .*307.*redirect/).length, 1);

      collector.reply = () => OK;
      e.record(settle('kept'));
      await e.flush();
      const delivered = collector.to('/v1/traces').slice(1).flatMap(spansOf);
      assert.deepEqual(delivered.map((s) => attributes(s.attributes)['coderoute.request_id']), ['kept']);
    } finally {
      await elsewhere.close();
    }
  });

  it('retries a 503 once, then drops only that batch; metrics lost on the way come with the next send', async () => {
    collector.reply = () => ({ kind: 'answer', status: 503 });
    const e = exporter();
    e.record(settle('a', { usd: 0.25 }));
    await e.flush();
    assert.equal(collector.to('/v1/traces').length, 2, 'one retry');
    assert.equal(collector.to('/v1/metrics').length, 2, 'one retry');
    assert.equal(logger.matching(/warn telemetry: dropped/).length, 2);

    collector.reply = () => OK;
    e.record(settle('b', { usd: 0.5 }));
    await e.flush();
    const lastTraces = collector.to('/v1/traces').at(-1)!;
    assert.deepEqual(spansOf(lastTraces).map((s) => attributes(s.attributes)['coderoute.request_id']), ['b'], 'the dropped batch is not resent');
    const lastMetrics = collector.to('/v1/metrics').at(-1)!.body as { resourceMetrics: { scopeMetrics: { metrics: { sum?: { dataPoints: { asDouble: number }[] } }[] }[] }[] };
    assert.equal(lastMetrics.resourceMetrics[0].scopeMetrics[0].metrics[0].sum!.dataPoints[0].asDouble, 0.75, 'cumulative: nothing lost');
  });

  it('does not retry a 400, which would only fail again', async () => {
    collector.reply = () => ({ kind: 'answer', status: 400, body: '{"message":"bad"}' });
    const e = exporter({ metrics: false });
    e.record(settle('a'));
    await e.flush();
    assert.equal(collector.requests.length, 1);
    assert.equal(logger.matching(/dropped 1 span\(s\): the collector answered 400/).length, 1);
  });

  it('gives up on a collector that does not answer, within the timeout, without throwing', async () => {
    collector.reply = () => ({ kind: 'hang' });
    const e = exporter({ timeoutMs: 100, metrics: false });
    e.record(settle('a'));
    const started = Date.now();
    await assert.doesNotReject(e.flush());
    assert.ok(Date.now() - started < 2000, 'bounded by the timeout');
    assert.equal(collector.requests.length, 2, 'one retry');
    assert.equal(logger.matching(/dropped 1 span\(s\): no answer within 100 ms/).length, 1);
  });

  it('survives a dropped connection and a collector that is gone', async () => {
    collector.reply = () => ({ kind: 'reset' });
    const e = exporter({ metrics: false });
    e.record(settle('a'));
    await assert.doesNotReject(e.flush());
    assert.equal(collector.requests.length, 2);
    await collector.close();
    e.record(settle('b'));
    assert.doesNotThrow(() => e.record(settle('c')));
    await assert.doesNotReject(e.flush());
    assert.equal(logger.matching(/warn telemetry: dropped/).length, 2);
    collector = await MockOtlpCollector.start(); // for afterEach
  });

  it('reports spans a collector rejected in a partial success', async () => {
    collector.reply = () => ({ kind: 'answer', status: 200, body: '{"partialSuccess":{"rejectedSpans":"1","errorMessage":"too old"}}' });
    const e = exporter({ metrics: false });
    e.record(settle('a'));
    await e.flush();
    assert.equal(logger.matching(/warn telemetry: traces: the collector rejected 1 item\(s\): too old/).length, 1);
  });

  it('sends nothing after it is disposed', async () => {
    const e = exporter({ flushIntervalMs: 10 });
    e.record(settle('a'));
    e.dispose();
    e.record(settle('b'));
    await e.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(collector.requests.length, 0);
  });
});

describe('OTLP export: following the ledger and the setting', () => {
  let collector: MockOtlpCollector;

  beforeEach(async () => {
    collector = await MockOtlpCollector.start();
  });

  afterEach(() => collector.close());

  /** A ledger in memory: settle() appends and tells the listeners, like the real one. */
  function ledger(initial: SettleLine[] = []) {
    const lines = [...initial];
    const listeners = new Set<() => void>();
    return {
      settled: () => lines,
      onDidChange(listener: () => void) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      settle(line: SettleLine) {
        lines.push(line);
        listeners.forEach((l) => l());
      },
      get listeners() {
        return listeners.size;
      },
    };
  }

  function telemetry(source: ReturnType<typeof ledger>, now: () => number = () => AT, token?: () => Promise<string | undefined>) {
    return new SpendTelemetry({ source, logger: new RecordingLogger(), serviceVersion: 't', now, token, exporter: { flushIntervalMs: 60_000, metrics: false, retryDelayMs: 5 } });
  }

  const sentIds = () => collector.to('/v1/traces').flatMap(spansOf).map((s) => attributes(s.attributes)['coderoute.request_id']);

  it('sends nothing while the endpoint is empty (the default)', async () => {
    const source = ledger();
    const t = telemetry(source);
    t.configure('');
    source.settle(settle('a'));
    await t.flush();
    assert.equal(t.active, false);
    await t.dispose();
    assert.equal(collector.requests.length, 0);
  });

  it('sends what settles after it starts, never the history', async () => {
    const source = ledger([settle('old-1', { at: AT - 10_000 })]);
    const t = telemetry(source);
    t.configure(collector.url);
    // A ledger that loaded late reports lines from before the start as new.
    source.settle(settle('old-2', { at: AT - 5_000 }));
    source.settle(settle('new-1'));
    source.settle(settle('new-2', { at: AT + 1 }));
    await t.flush();
    assert.deepEqual(sentIds(), ['new-1', 'new-2']);
    await t.dispose();
    assert.equal(source.listeners, 0, 'unsubscribed');
  });

  it('stops when the endpoint is cleared and starts again when it is set', async () => {
    let now = AT;
    const source = ledger();
    const t = telemetry(source, () => now);
    t.configure(collector.url);
    source.settle(settle('on-1'));
    await t.flush();
    t.configure('');
    source.settle(settle('off-1', { at: AT + 10 }));
    await t.flush();
    now = AT + 100;
    t.configure(collector.url);
    source.settle(settle('off-2', { at: AT + 50 })); // settled while off, reported late
    source.settle(settle('on-2', { at: AT + 200 }));
    await t.dispose();
    assert.deepEqual(sentIds(), ['on-1', 'on-2'], 'dispose sends what waits');
  });

  it("exports only this window's requests when the ledger can tell them apart", async () => {
    const source = ledger([settle('old')]);
    const local = new Set<(line: SettleLine) => void>();
    const feed = {
      ...source,
      settled: source.settled,
      onDidChange: source.onDidChange,
      onDidSettleLocally(listener: (line: SettleLine) => void) {
        local.add(listener);
        return () => local.delete(listener);
      },
    };
    const t = new SpendTelemetry({ source: feed, logger: new RecordingLogger(), serviceVersion: 't', now: () => AT, exporter: { flushIntervalMs: 60_000, metrics: false } });
    t.configure(collector.url);
    source.settle(settle('other-window')); // read from the shared file: not ours
    const mine = settle('this-window');
    source.settle(mine);
    local.forEach((l) => l(mine));
    await t.dispose();
    assert.deepEqual(sentIds(), ['this-window']);
    assert.equal(local.size, 0, 'unsubscribed');
  });

  it('sends the bearer token only when one is set', async () => {
    const secrets: { token?: string } = {};
    const source = ledger();
    const t = telemetry(source, () => AT, async () => secrets.token);
    t.configure(collector.url);
    source.settle(settle('a'));
    await t.flush();
    secrets.token = 'secret-token';
    source.settle(settle('b'));
    await t.flush();
    await t.dispose();
    assert.deepEqual(collector.requests.map((r) => r.headers.authorization), [undefined, 'Bearer secret-token']);
  });
});

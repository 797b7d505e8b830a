import { createHash } from 'node:crypto';
import type { SettleLine } from './spendRecord';

/**
 * Settled requests as OpenTelemetry data, in the OTLP/HTTP JSON encoding (`/v1/traces`,
 * `/v1/metrics`), named after the GenAI semantic conventions (`gen_ai.*`) so that a collector's
 * GenAI dashboards read them as they are. Only what the ledger holds goes out: models, tokens,
 * cost, timing and outcome; never a prompt, an answer or a file path (the ledger has none).
 *
 * OTLP JSON differs from protobuf's JSON mapping in two places: trace and span ids are hex, not
 * base64; 64-bit integers are decimal strings; enums are numbers.
 */

export type OtlpAnyValue = { stringValue: string } | { boolValue: boolean } | { intValue: string } | { doubleValue: number };

export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  name: string;
  /** 3 = SPAN_KIND_CLIENT: a call out to a model. */
  kind: 3;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpKeyValue[];
  /** 2 = STATUS_CODE_ERROR; absent (unset) otherwise, as the conventions ask of successful calls. */
  status?: { code: 2; message: string };
}

/** What names the sender: `service.name` is always `coderoute`. */
export interface OtlpServiceInfo {
  serviceVersion: string;
  /**
   * `service.instance.id`: one per exporter (a VS Code window), so that each window's cumulative
   * metrics are a series of their own rather than one series that seems to reset.
   */
  serviceInstanceId?: string;
}

/** Every request is a chat call in the conventions' terms, completions included (they go through the same chain). */
export const GEN_AI_OPERATION = 'chat';
export const SERVICE_NAME = 'coderoute';
const SCOPE_NAME = 'coderoute.spend';

/** The conventions' buckets for `gen_ai.client.token.usage`. */
export const TOKEN_USAGE_BOUNDS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

const text = (key: string, value: string): OtlpKeyValue => ({ key, value: { stringValue: value } });
const int = (key: string, value: number): OtlpKeyValue => ({ key, value: { intValue: String(Math.trunc(value)) } });
const double = (key: string, value: number): OtlpKeyValue => ({ key, value: { doubleValue: value } });
const bool = (key: string, value: boolean): OtlpKeyValue => ({ key, value: { boolValue: value } });

/** Milliseconds since the epoch (fractions kept to the nanosecond) as OTLP's decimal-string nanoseconds. */
export function unixNano(ms: number): string {
  const clamped = Math.max(0, ms);
  const whole = Math.floor(clamped);
  return (BigInt(whole) * 1_000_000n + BigInt(Math.round((clamped - whole) * 1e6))).toString();
}

/**
 * Trace and span ids derived from the request id, so that a batch sent twice (a retry that had in
 * fact arrived) carries the same ids and a backend can tell the copies apart from new requests.
 */
export function otlpIds(requestId: string): { traceId: string; spanId: string } {
  const hex = createHash('sha256').update(`coderoute.request:${requestId}`).digest('hex');
  // An all-zero id is invalid in OTLP; a hash gives one with probability 2^-64, but be exact.
  const nonZero = (id: string) => (/^0+$/.test(id) ? `${id.slice(0, -1)}1` : id);
  return { traceId: nonZero(hex.slice(0, 32)), spanId: nonZero(hex.slice(32, 48)) };
}

/** The conventions' provider attributes: `gen_ai.provider.name`, and `gen_ai.system` for backends that predate it. */
function providerAttributes(line: SettleLine): OtlpKeyValue[] {
  return [text('gen_ai.provider.name', line.provider), text('gen_ai.system', line.provider)];
}

function modelAttributes(line: SettleLine): OtlpKeyValue[] {
  // The ledger records the model that answered, which is also the one asked last.
  return [text('gen_ai.request.model', line.model), text('gen_ai.response.model', line.model)];
}

export function spanAttributes(line: SettleLine): OtlpKeyValue[] {
  const attributes = [
    text('gen_ai.operation.name', GEN_AI_OPERATION),
    ...providerAttributes(line),
    ...modelAttributes(line),
    int('gen_ai.usage.input_tokens', line.tokensIn),
    int('gen_ai.usage.output_tokens', line.tokensOut),
    text('coderoute.request_id', line.requestId),
    text('coderoute.task', line.task),
    text('coderoute.language', line.language),
    double('coderoute.cost_usd', line.usd),
    bool('coderoute.estimated', line.estimated),
    int('coderoute.attempts', line.attempts),
    bool('coderoute.fallback_used', line.fallbackUsed),
    text('coderoute.status', line.status),
  ];
  if (line.counterfactualUsd !== undefined) attributes.push(double('coderoute.counterfactual_usd', line.counterfactualUsd));
  if (line.premiumRequests !== undefined) attributes.push(double('coderoute.premium_requests', line.premiumRequests));
  if (failed(line)) attributes.push(text('error.type', line.status));
  return attributes;
}

/** A cancelled call is the user's choice, not a failure. */
function failed(line: SettleLine): boolean {
  return line.status === 'error' || line.status === 'orphaned';
}

/** One settled request as one client span, `chat <model>`, from when the call began to when it settled. */
export function otlpSpan(line: SettleLine): OtlpSpan {
  const span: OtlpSpan = {
    ...otlpIds(line.requestId),
    name: `${GEN_AI_OPERATION} ${line.model}`,
    kind: 3,
    startTimeUnixNano: unixNano(line.at - line.latencyMs),
    endTimeUnixNano: unixNano(line.at),
    attributes: spanAttributes(line),
  };
  if (failed(line)) span.status = { code: 2, message: line.status === 'orphaned' ? 'the window closed before the call ended' : 'the call failed' };
  return span;
}

function resource(service: OtlpServiceInfo) {
  const attributes = [text('service.name', SERVICE_NAME), text('service.version', service.serviceVersion)];
  if (service.serviceInstanceId) attributes.push(text('service.instance.id', service.serviceInstanceId));
  return { attributes };
}

function scope(service: OtlpServiceInfo) {
  return { name: SCOPE_NAME, version: service.serviceVersion };
}

/** The body of a POST to `/v1/traces`. */
export function otlpTracesBody(lines: readonly SettleLine[], service: OtlpServiceInfo) {
  return { resourceSpans: [{ resource: resource(service), scopeSpans: [{ scope: scope(service), spans: lines.map(otlpSpan) }] }] };
}

interface CostSeries {
  attributes: OtlpKeyValue[];
  usd: number;
}

interface TokenSeries {
  attributes: OtlpKeyValue[];
  count: number;
  sum: number;
  min: number;
  max: number;
  bucketCounts: number[];
}

/** 2 = AGGREGATION_TEMPORALITY_CUMULATIVE. */
const CUMULATIVE = 2;

/**
 * Running totals since `startMs`, sent whole each time (cumulative temporality): an export that
 * is lost costs nothing, the next one carries its requests too. Two instruments:
 * `coderoute.cost` (a monotonic sum in USD per provider, model and task) and the conventions'
 * `gen_ai.client.token.usage` (a histogram of tokens per call, input and output).
 */
export class SpendMetrics {
  private readonly cost = new Map<string, CostSeries>();
  private readonly tokens = new Map<string, TokenSeries>();

  constructor(private readonly startMs: number) {}

  get empty(): boolean {
    return this.cost.size === 0;
  }

  record(line: SettleLine): void {
    const costAttributes = [...providerAttributes(line), text('gen_ai.request.model', line.model), text('coderoute.task', line.task)];
    const costKey = JSON.stringify(costAttributes);
    const series = this.cost.get(costKey) ?? { attributes: costAttributes, usd: 0 };
    series.usd += line.usd;
    this.cost.set(costKey, series);
    this.observeTokens(line, 'input', line.tokensIn);
    this.observeTokens(line, 'output', line.tokensOut);
  }

  private observeTokens(line: SettleLine, type: 'input' | 'output', value: number): void {
    const attributes = [text('gen_ai.operation.name', GEN_AI_OPERATION), ...providerAttributes(line), ...modelAttributes(line), text('gen_ai.token.type', type)];
    const key = JSON.stringify(attributes);
    let series = this.tokens.get(key);
    if (!series) {
      series = { attributes, count: 0, sum: 0, min: value, max: value, bucketCounts: new Array<number>(TOKEN_USAGE_BOUNDS.length + 1).fill(0) };
      this.tokens.set(key, series);
    }
    series.count++;
    series.sum += value;
    series.min = Math.min(series.min, value);
    series.max = Math.max(series.max, value);
    // Buckets are (previous bound, bound]; the last one is everything above the last bound.
    const bucket = TOKEN_USAGE_BOUNDS.findIndex((bound) => value <= bound);
    series.bucketCounts[bucket < 0 ? TOKEN_USAGE_BOUNDS.length : bucket]++;
  }

  /** The body of a POST to `/v1/metrics`: the totals as of `nowMs`. */
  body(nowMs: number, service: OtlpServiceInfo) {
    const startTimeUnixNano = unixNano(this.startMs);
    const timeUnixNano = unixNano(nowMs);
    const metrics = [
      {
        name: 'coderoute.cost',
        description: 'What settled model calls cost, in US dollars.',
        unit: 'USD',
        sum: {
          aggregationTemporality: CUMULATIVE,
          isMonotonic: true,
          dataPoints: [...this.cost.values()].map((s) => ({ attributes: s.attributes, startTimeUnixNano, timeUnixNano, asDouble: s.usd })),
        },
      },
      {
        name: 'gen_ai.client.token.usage',
        description: 'Measures number of input and output tokens used.',
        unit: '{token}',
        histogram: {
          aggregationTemporality: CUMULATIVE,
          dataPoints: [...this.tokens.values()].map((s) => ({
            attributes: s.attributes,
            startTimeUnixNano,
            timeUnixNano,
            count: String(s.count),
            sum: s.sum,
            min: s.min,
            max: s.max,
            bucketCounts: s.bucketCounts.map(String),
            explicitBounds: TOKEN_USAGE_BOUNDS,
          })),
        },
      },
    ];
    return { resourceMetrics: [{ resource: resource(service), scopeMetrics: [{ scope: scope(service), metrics }] }] };
  }
}

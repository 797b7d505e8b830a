import type { OutcomeLine, SettleLine } from './spendRecord';

/**
 * The spend ledger as a CSV file for a spreadsheet: one row per settled request, with the user's
 * last verdict on it. RFC 4180 (CRLF line ends, quotes only where needed), no prompt or code.
 */

export const SPEND_CSV_HEADER = [
  'time_utc',
  'request_id',
  'task',
  'language',
  'model',
  'provider',
  'tokens_in',
  'tokens_out',
  'estimated',
  'usd',
  'counterfactual_usd',
  'premium_requests',
  'latency_ms',
  'attempts',
  'fallback_used',
  'status',
  'outcome',
] as const;

/** Characters a spreadsheet reads as the start of a formula (OWASP's list for CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * A text cell as a spreadsheet should show it: a leading apostrophe keeps a formula-like value
 * (`=HYPERLINK(…)` in a model id or a language) as text. Only text cells go through this; the
 * numbers are ours and never negative.
 */
function textCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled. */
function quote(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

/**
 * Plain decimal notation (never `1e-7`, which some spreadsheets read as text), to ten decimal
 * places (a ten-billionth of a dollar), without trailing zeros or float noise (0.30000000000000004).
 */
function decimal(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(10).replace(/\.?0+$/, '');
}

function optionalDecimal(value: number | undefined): string {
  return value === undefined ? '' : decimal(value);
}

/** The last verdict per request: the latest by time, the later line when two share a time. */
export function lastVerdicts(outcomes: readonly OutcomeLine[]): Map<string, OutcomeLine> {
  const last = new Map<string, OutcomeLine>();
  for (const outcome of outcomes) {
    const previous = last.get(outcome.requestId);
    if (!previous || outcome.at >= previous.at) last.set(outcome.requestId, outcome);
  }
  return last;
}

/** The CSV row of one settled request, unquoted. */
export function spendCsvRow(line: SettleLine, verdict: OutcomeLine | undefined): string[] {
  return [
    new Date(line.at).toISOString(),
    textCell(line.requestId),
    textCell(line.task),
    textCell(line.language),
    textCell(line.model),
    textCell(line.provider),
    String(line.tokensIn),
    String(line.tokensOut),
    String(line.estimated),
    decimal(line.usd),
    optionalDecimal(line.counterfactualUsd),
    optionalDecimal(line.premiumRequests),
    decimal(line.latencyMs),
    String(line.attempts),
    String(line.fallbackUsed),
    textCell(line.status),
    verdict ? textCell(verdict.kind) : '',
  ];
}

/** The whole file: the header, then the settled requests in the order given (the ledger's: oldest first). */
export function spendCsv(settled: readonly SettleLine[], outcomes: readonly OutcomeLine[]): string {
  const verdicts = lastVerdicts(outcomes);
  const rows: string[] = [SPEND_CSV_HEADER.join(',')];
  for (const line of settled) rows.push(spendCsvRow(line, verdicts.get(line.requestId)).map(quote).join(','));
  return `${rows.join('\r\n')}\r\n`;
}

/** `coderoute-spend-2025-06-01.csv`, by the local date (the day the user sees on the calendar). */
export function spendCsvFileName(now: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `coderoute-spend-${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}.csv`;
}

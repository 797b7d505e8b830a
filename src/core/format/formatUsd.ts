/**
 * Dollars as CodeRoute shows them everywhere (answers, status bar, decisions, budgets, the spend
 * panel): cents from a cent up, and two significant digits below a cent, so that a real
 * $0.000028 charge never reads as free. No imports: the spend panel's browser bundle uses it too.
 */

/** Below this an amount is shown as "< $0.000001" rather than in more digits. */
const SMALLEST_SHOWN = 0.000001;

const cents = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** `$1.00`, `$1,234.50`, `$0.0042`, `$0.000028`, `-$0.50`; `unknown` for a missing amount. */
export function formatUsd(usd: number | null | undefined, unknown = 'price unknown'): string {
  if (usd === null || usd === undefined || !Number.isFinite(usd)) return unknown;
  const size = Math.abs(usd);
  if (size === 0) return '$0.00';
  const sign = usd < 0 ? '-' : '';
  if (size < SMALLEST_SHOWN) return usd < 0 ? '> -$0.000001' : '< $0.000001';
  // Two significant digits under a cent, unless they round up to a cent.
  const significant = Number(size.toPrecision(2));
  if (significant < 0.01) return `${sign}$${plainDecimal(significant)}`;
  return `${sign}$${cents.format(size)}`;
}

/** A small positive number without an exponent or trailing zeros (0.000028, not 2.8e-5). */
function plainDecimal(value: number): string {
  return value.toFixed(8).replace(/0+$/, '').replace(/\.$/, '');
}

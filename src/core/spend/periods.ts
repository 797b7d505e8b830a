/**
 * Budget periods in the user's local time: a day runs from local midnight to local midnight, a
 * month from the 1st. Keys are plain strings so that totals can be kept per period.
 */

const pad = (n: number) => String(n).padStart(2, '0');

/** "2026-11-28" for a time, in local time. */
export function dayKey(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** "2026-11" for a time, in local time. */
export function monthKey(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}`;
}

/** How far through its day and month `now` is, 0..1 (local time; a 23- or 25-hour day counts as it is). */
export function elapsed(now: number): { day: number; month: number } {
  const d = new Date(now);
  const dayStart = new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const dayEnd = new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime();
  const monthStart = new Date(d.getFullYear(), d.getMonth(), 1).getTime();
  const monthEnd = new Date(d.getFullYear(), d.getMonth() + 1, 1).getTime();
  return { day: (now - dayStart) / (dayEnd - dayStart), month: (now - monthStart) / (monthEnd - monthStart) };
}

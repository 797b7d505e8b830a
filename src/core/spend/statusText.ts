import { formatUsd } from '../format/formatUsd';
import type { BudgetStatus } from './spendSource';

export interface TodaySpend {
  usd: number;
  requests: number;
  cheap: number;
  byTask: ReadonlyMap<string, number>;
  byModel: ReadonlyMap<string, number>;
}

export interface StatusView {
  /** `$0.42 / $2.00 · 83% cheap`. */
  text: string;
  /** 'error' at a budget's limit or last threshold, 'warning' from its first threshold. */
  severity: 'normal' | 'warning' | 'error';
  /** Markdown: the breakdown by task and model, the budgets, and command links. */
  tooltip: string;
  /** For screen readers. */
  accessibility: string;
}

/** Commands the tooltip links to; the status bar item trusts exactly these. */
export const STATUS_COMMANDS = ['coderoute.showSpend', 'coderoute.exportSpend', 'coderoute.showRequests'] as const;


function mdEscape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
}

function rows(map: ReadonlyMap<string, number>, limit: number): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, usd]) => `| ${mdEscape(name)} | ${formatUsd(usd)} |`);
}

/**
 * The status bar's view of spend: today's dollars (against the daily budget when there is one)
 * and the share of today's requests that went to cheap or local models.
 */
export function statusView(today: TodaySpend, budgets: readonly BudgetStatus[], warnAt: readonly number[], problem?: string): StatusView {
  const daily = budgets.find((b) => b.id === 'daily');
  const spent = formatUsd(today.usd);
  const money = daily ? `${spent} / ${formatUsd(daily.limitUsd)}` : spent;
  const cheapShare = today.requests > 0 ? Math.round((100 * today.cheap) / today.requests) : undefined;
  const text = `$(graph) ${money}${cheapShare === undefined ? '' : ` · ${cheapShare}% cheap`}${problem ? ' $(error)' : ''}`;
  const last = warnAt.length > 0 ? warnAt[warnAt.length - 1] : 1;
  const first = warnAt.length > 0 ? warnAt[0] : 1;
  const worst = Math.max(0, ...budgets.map((b) => b.share));
  const severity = problem || worst >= Math.min(1, last) ? 'error' : worst >= first ? 'warning' : 'normal';

  const lines: string[] = [`**CodeRoute spend today: ${spent}** in ${today.requests} request${today.requests === 1 ? '' : 's'}${cheapShare === undefined ? '' : `, ${cheapShare}% to cheap or local models`}`, ''];
  if (problem) lines.push(`$(error) ${mdEscape(problem)}`, '');
  if (budgets.length > 0) {
    lines.push('| budget | used | limit |', '|---|---:|---:|');
    for (const b of budgets) lines.push(`| ${mdEscape(b.label)} | ${formatUsd(b.spentUsd + b.reservedUsd)} (${Math.round(b.share * 100)}%) | ${formatUsd(b.limitUsd)} |`);
    lines.push('');
  }
  if (today.byTask.size > 0) lines.push('| task | today |', '|---|---:|', ...rows(today.byTask, 6), '');
  if (today.byModel.size > 0) lines.push('| model | today |', '|---|---:|', ...rows(today.byModel, 6), '');
  lines.push('[Show Spend](command:coderoute.showSpend) · [Export CSV](command:coderoute.exportSpend) · [Requests](command:coderoute.showRequests)');
  const accessibility = `CodeRoute spend today ${spent}${daily ? ` of a ${formatUsd(daily.limitUsd)} daily budget` : ''}${cheapShare === undefined ? '' : `, ${cheapShare} percent of requests to cheap models`}`;
  return { text, severity, tooltip: lines.join('\n'), accessibility };
}

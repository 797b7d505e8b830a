import { formatUsd } from '../format/formatUsd';
import type { RouteCandidate, RouteDecision } from './routeDecision';

/**
 * A decision as plain data: what the command line prints, the log line and "Why This Model?"
 * show. It names models and providers by id; it never holds a URL, a key, or the prompt.
 */
export interface DecisionRecord {
  requestId: string;
  task: string;
  kind: string;
  mode: string;
  privacy: string;
  chosen: { model: string; provider: string; name: string };
  fallbacks: string[];
  decidedBy: RouteDecision['decidedBy'];
  rule?: string;
  features: string[];
  estimatedCostUsd: number | null;
  candidates: RouteCandidate[];
  budget?: RouteDecision['budget'];
  policyNotes: string[];
  reason: string;
}

export function decisionRecord(decision: RouteDecision): DecisionRecord {
  return {
    requestId: decision.requestId,
    task: decision.task,
    kind: decision.kind ?? decision.task,
    mode: decision.mode ?? 'task',
    privacy: decision.privacy,
    chosen: { model: decision.chosen.model.id, provider: decision.chosen.provider.id, name: decision.chosen.model.name },
    fallbacks: decision.fallbacks.map((f) => f.model.id),
    decidedBy: decision.decidedBy,
    rule: decision.rule,
    features: decision.features ?? [],
    estimatedCostUsd: decision.estimatedCostUsd ?? null,
    candidates: decision.candidates,
    budget: decision.budget,
    policyNotes: decision.policyNotes ?? [],
    reason: decision.reason,
  };
}

const usd = (value: number | null | undefined) => formatUsd(value, 'unknown');

/** One log line with the decision's facts, for the output channel. */
export function decisionLogLine(record: DecisionRecord): string {
  const candidates = record.candidates
    .map((c) => `${c.modelId}:${c.excluded ? 'excluded' : c.score}${c.estCostUsd === undefined ? '' : `/${usd(c.estCostUsd)}`}`)
    .join(',');
  const rule = record.rule ? ` rule=${record.rule}` : '';
  const chain = record.fallbacks.length ? ` then=${record.fallbacks.join(',')}` : '';
  return `route ${record.kind} mode=${record.mode} privacy=${record.privacy} → ${record.chosen.model} by=${record.decidedBy}${rule} est=${usd(record.estimatedCostUsd)}${chain} candidates=[${candidates}] facts=[${record.features.join('; ')}] id=${record.requestId}`;
}

/** Markdown for "Why This Model?": the sentence first, then the facts behind it. Text only. */
export function decisionMarkdown(record: DecisionRecord, title: string): string {
  const lines = [`# Why ${record.chosen.model}?`, '', `_${title}_`, '', `**${record.reason}**`, ''];
  lines.push(`- Task: ${record.task}${record.kind !== record.task ? ` (${record.kind})` : ''} · mode: ${record.mode} · privacy: ${record.privacy}`);
  lines.push(`- Decided by: ${record.decidedBy === 'rule' ? `rule \`${record.rule}\`` : record.decidedBy === 'estimate' ? 'the best score (acceptance − price weight × cost)' : 'the task setting'}`);
  lines.push(`- What mattered: ${record.features.join(', ') || '—'}`);
  lines.push(`- Answers: ${record.chosen.model} via ${record.chosen.provider} (\`${record.chosen.name}\`), est. ${usd(record.estimatedCostUsd)}`);
  lines.push(`- If it fails: ${record.fallbacks.join(' → ') || 'no fallback'}`);
  if (record.budget) {
    const { spentTodayUsd, dailyUsd, spentMonthUsd, monthlyUsd, source } = record.budget;
    const day = dailyUsd > 0 ? `${usd(spentTodayUsd)} of ${usd(dailyUsd)} today` : `${usd(spentTodayUsd)} today (no daily budget)`;
    const month = monthlyUsd > 0 ? `, ${usd(spentMonthUsd)} of ${usd(monthlyUsd)} this month` : '';
    lines.push(`- Budget: ${day}${month} (${source})`);
  }
  for (const note of record.policyNotes) lines.push(`- Workspace policy: ${note}`);
  lines.push('', '| model | score | acceptance | est. cost | note |', '|---|---|---|---|---|');
  for (const c of record.candidates) {
    const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
    lines.push(`| ${cell(c.modelId)} | ${c.excluded ? '—' : c.score} | ${c.pAccept ?? '—'} | ${usd(c.estCostUsd)} | ${cell(c.note)} |`);
  }
  lines.push('', `_Request ${record.requestId}_`, '');
  return lines.join('\n');
}

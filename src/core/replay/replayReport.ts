import { formatUsd } from '../format/formatUsd';
import { KNOWING, againstModels, type ReplayResult } from './replay';

/** Policies in the order the table and the plot show them. */
export const POLICY_ORDER = ['learned', KNOWING, 'always_strong', 'always_cheapest', 'random', 'best_fixed_chain_hindsight', 'oracle'];

function ordered(result: ReplayResult): string[] {
  const names = Object.keys(result.policies);
  return [...POLICY_ORDER.filter((n) => names.includes(n)), ...names.filter((n) => !POLICY_ORDER.includes(n))];
}

/** A plain-text table of the policies, for a terminal. */
export function replayTable(result: ReplayResult): string {
  const header = ['policy', 'accepted', 'cost $', 'attempts', 'quality vs strong', 'cost vs strong', 'score'];
  const rows = ordered(result).map((name) => {
    const p = result.policies[name];
    return [name, p.quality.toFixed(1), p.cost.toFixed(2), p.attempts.toFixed(2), p.quality_vs_strong.toFixed(3), p.cost_vs_strong.toFixed(3), p.score.toFixed(3)];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const seeds = result.learned_by_seed;
  const spread = (key: 'quality_vs_strong' | 'cost_vs_strong' | 'score') => `${Math.min(...seeds.map((s) => s[key])).toFixed(3)}–${Math.max(...seeds.map((s) => s[key])).toFixed(3)}`;
  return [
    `${result.tasks} tasks × ${result.seeds} seed${result.seeds === 1 ? '' : 's'}, up to ${result.max_attempts} attempt${result.max_attempts === 1 ? '' : 's'} per task, strong = ${result.strong}`,
    `pool: ${result.pool.join(', ')}`,
    `context features: ${result.features.length ? result.features.join(', ') : 'none'}; outcome: ${result.outcome_column}`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `score: accepted share − ${result.price_weight} (the price weight) × cost vs strong, per task (what the router's price weight makes of a policy)`,
    `learned over the seeds: quality vs strong ${spread('quality_vs_strong')}, cost vs strong ${spread('cost_vs_strong')}, score ${spread('score')}; ${(result.exploration_rate * 100).toFixed(1)}% of decisions explored`,
    `best fixed chain in hindsight (seed 1): ${result.best_chains[0]?.join(' → ') ?? 'none'}`,
    ceilingLines(result),
    '',
    'each pool model alone, one attempt per task:',
    ...modelRows(result),
    ...(result.max_attempts === 1 ? [frontierLine(result)] : []),
  ].join('\n');
}

/**
 * What a router seeing only the context columns could have done at most (the best chains per
 * context, chosen knowing the outcomes), at the learned policy's cost and along the cost axis.
 */
function ceilingLines(result: ReplayResult): string {
  const { context_ceiling: ceiling, policies } = result;
  const learned = policies.learned;
  const seen = result.features.length ? result.features.join(', ') : 'no context';
  const curve = ceiling.frontier.map((f) => `${f.cost_vs_strong.toFixed(2)} → ${f.quality_vs_strong.toFixed(3)}`).join(', ');
  return [
    `best chains per context in hindsight (the ceiling of a router that sees ${seen}), quality vs strong at a cost vs strong of: ${curve}`,
    `  at the learned policy's cost (${learned ? learned.cost_vs_strong.toFixed(3) : '?'}): ${ceiling.at_learned_cost.quality_vs_strong.toFixed(3)}; learned ${learned ? learned.quality_vs_strong.toFixed(3) : '?'}`,
  ].join('\n');
}

function modelRows(result: ReplayResult): string[] {
  const rows = Object.entries(result.models)
    .sort((a, b) => a[1].cost - b[1].cost)
    .map(([name, m]) => [name, m.quality.toFixed(1), m.cost.toFixed(2), m.quality_vs_strong.toFixed(3), m.cost_vs_strong.toFixed(3)]);
  const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...rows.map((r) => r[i].length), [8, 8, 6, 17, 14][i]));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}`;
  return [line(['model', 'accepted', 'cost $', 'quality vs strong', 'cost vs strong']), ...rows.map(line)];
}

/** With one attempt: is the learned point above the line of its two nearest models, and undominated? */
function frontierLine(result: ReplayResult): string {
  const learned = result.policies.learned;
  if (!learned) return '';
  const { dominatedBy, lineQuality, between } = againstModels(learned, result.models);
  const line =
    lineQuality === undefined || !between
      ? 'no pool model on both sides of it in cost'
      : `${learned.quality >= lineQuality ? 'above' : 'below'} the line from ${between[0]} to ${between[1]} (${learned.quality.toFixed(1)} accepted against ${lineQuality.toFixed(1)} on the line)`;
  const hull = result.models_hull_at_learned_cost;
  const mixture = `${learned.quality >= hull.quality ? 'above' : 'below'} the best mixture of single models at its cost (${hull.quality.toFixed(1)})`;
  return `learned, one attempt: ${line}; ${dominatedBy.length ? `dominated by ${dominatedBy.join(', ')}` : 'no single model is as good at no higher cost'}; ${mixture}`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

const COLORS: Record<string, string> = {
  learned: '#d9480f',
  [KNOWING]: '#f59f00',
  always_strong: '#1c7ed6',
  always_cheapest: '#868e96',
  random: '#ae3ec9',
  best_fixed_chain_hindsight: '#2b8a3e',
  oracle: '#212529',
};

/**
 * An SVG with two charts: each policy's cost against its accepted tasks, and the learning curve
 * (cumulative accepted tasks and dollars along the stream, learned against always-strong).
 * Self-contained, no script; every label is escaped.
 */
export function replaySvg(result: ReplayResult, title: string): string {
  const W = 960;
  const H = 440;
  const pad = { l: 70, r: 20, t: 50, b: 60 };
  const half = (W - 40) / 2;
  const parts: string[] = [];
  const text = (x: number, y: number, s: string, extra = '') => parts.push(`<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${extra}>${escapeXml(s)}</text>`);
  const axes = (x0: number, y0: number, w: number, h: number, xLabel: string, yLabel: string, xMax: number, yMax: number, xFmt: (v: number) => string, yFmt: (v: number) => string) => {
    parts.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#adb5bd"/>`);
    for (let i = 0; i <= 4; i++) {
      const xv = (xMax * i) / 4;
      const yv = (yMax * i) / 4;
      text(x0 + (w * i) / 4, y0 + h + 16, xFmt(xv), 'text-anchor="middle" font-size="11"');
      text(x0 - 6, y0 + h - (h * i) / 4 + 4, yFmt(yv), 'text-anchor="end" font-size="11"');
    }
    text(x0 + w / 2, y0 + h + 36, xLabel, 'text-anchor="middle" font-size="12"');
    text(x0 - 52, y0 + h / 2, yLabel, `text-anchor="middle" font-size="12" transform="rotate(-90 ${x0 - 52} ${y0 + h / 2})"`);
  };
  text(W / 2, 24, title, 'text-anchor="middle" font-size="15" font-weight="bold"');

  // Cost against quality.
  const x0 = pad.l;
  const y0 = pad.t;
  const w = half - pad.l - pad.r;
  const h = H - pad.t - pad.b;
  const names = ordered(result);
  const maxCost = Math.max(...names.map((n) => result.policies[n].cost), ...Object.values(result.models).map((m) => m.cost)) * 1.1 || 1;
  const maxQuality = result.tasks;
  axes(x0, y0, w, h, 'total cost ($)', 'accepted tasks', maxCost, maxQuality, (v) => v.toFixed(v < 10 ? 2 : 0), (v) => v.toFixed(0));
  names.forEach((name, i) => {
    const p = result.policies[name];
    const cx = x0 + (p.cost / maxCost) * w;
    const cy = y0 + h - (p.quality / maxQuality) * h;
    const color = COLORS[name] ?? '#495057';
    parts.push(`<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="5" fill="${color}"/>`);
    text(x0 + w - 4, y0 + h - 10 - i * 14, `● ${name}`, `text-anchor="end" font-size="11" fill="${color}"`);
  });

  // The ceiling of the best chains per context in hindsight: a dashed line.
  const strongPolicy = result.policies.always_strong;
  if (strongPolicy && result.context_ceiling.frontier.length > 0) {
    const d = result.context_ceiling.frontier
      .map((f, i) => {
        const cx = x0 + Math.min(1, (f.cost_vs_strong * strongPolicy.cost) / maxCost) * w;
        const cy = y0 + h - ((f.quality_vs_strong * strongPolicy.quality) / maxQuality) * h;
        return `${i === 0 ? 'M' : 'L'}${cx.toFixed(1)},${cy.toFixed(1)}`;
      })
      .join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${COLORS.best_fixed_chain_hindsight}" stroke-width="1.5" stroke-dasharray="4 3"/>`);
    text(x0 + 8, y0 + 16, '- - best chains per context in hindsight (ceiling)', `font-size="11" fill="${COLORS.best_fixed_chain_hindsight}"`);
  }

  // Each pool model alone: hollow squares, labelled.
  for (const [model, m] of Object.entries(result.models)) {
    const cx = x0 + (m.cost / maxCost) * w;
    const cy = y0 + h - (m.quality / maxQuality) * h;
    parts.push(`<rect x="${(cx - 4).toFixed(1)}" y="${(cy - 4).toFixed(1)}" width="8" height="8" fill="none" stroke="#495057"/>`);
    text(cx + 7, cy - 6, model.length > 28 ? `${model.slice(0, 27)}…` : model, 'font-size="9" fill="#495057"');
  }

  // Learning curve.
  const x1 = half + 40 + pad.l;
  const w1 = half - pad.l - pad.r;
  const last = result.curve[result.curve.length - 1];
  const maxY = Math.max(last?.learned_quality ?? 1, last?.strong_quality ?? 1) * 1.1 || 1;
  axes(x1, y0, w1, h, 'tasks seen', 'cumulative accepted', result.tasks, maxY, (v) => v.toFixed(0), (v) => v.toFixed(0));
  const maxSpend = Math.max(last?.learned_cost ?? 1, last?.strong_cost ?? 1) * 1.1 || 1;
  const path = (pick: (c: ReplayResult['curve'][number]) => number, max: number) =>
    result.curve.map((c, i) => `${i === 0 ? 'M' : 'L'}${(x1 + (c.task / result.tasks) * w1).toFixed(1)},${(y0 + h - (pick(c) / max) * h).toFixed(1)}`).join(' ');
  parts.push(`<path d="${path((c) => c.learned_quality, maxY)}" fill="none" stroke="${COLORS.learned}" stroke-width="2"/>`);
  parts.push(`<path d="${path((c) => c.strong_quality, maxY)}" fill="none" stroke="${COLORS.always_strong}" stroke-width="2"/>`);
  parts.push(`<path d="${path((c) => c.learned_cost, maxSpend)}" fill="none" stroke="${COLORS.learned}" stroke-width="1.5" stroke-dasharray="5 4"/>`);
  parts.push(`<path d="${path((c) => c.strong_cost, maxSpend)}" fill="none" stroke="${COLORS.always_strong}" stroke-width="1.5" stroke-dasharray="5 4"/>`);
  text(x1 + 8, y0 + 16, `solid: accepted · dashed: dollars (top = ${formatUsd(maxSpend)})`, 'font-size="11"');
  text(x1 + 8, y0 + 30, '● learned', `font-size="11" fill="${COLORS.learned}"`);
  text(x1 + 80, y0 + 30, '● always_strong', `font-size="11" fill="${COLORS.always_strong}"`);

  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n</svg>\n`;
}

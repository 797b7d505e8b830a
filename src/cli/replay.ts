import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { TASKS, type Task } from '../core/context/requestContext';
import { ReplayInputError, readCostFile, readOutcomeMatrix } from '../core/replay/outcomeMatrix';
import { runReplay } from '../core/replay/replay';
import { replaySvg, replayTable } from '../core/replay/replayReport';

export interface ReplayArgs {
  pool?: string;
  strong?: string;
  'max-attempts'?: string;
  seeds?: string;
  costs?: string;
  'exclude-column'?: string[];
  task?: string;
  'price-weight'?: string;
  json?: boolean;
  plot?: string;
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ReplayInputError(`cannot read the ${what} ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function wholeNumber(value: string | undefined, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new ReplayInputError(`${option} must be a whole number from 1, not "${value}"`);
  return n;
}

/** `coderoute replay`: exit 0 with the results, 2 on bad input. */
export function replayCommand(positionals: string[], args: ReplayArgs): number {
  try {
    if (positionals.length !== 1) throw new ReplayInputError('replay takes one MATRIX.csv');
    if (!args.pool) throw new ReplayInputError('--pool is required: the models the router may use, comma-separated');
    if (!args.strong) throw new ReplayInputError('--strong is required: the reference model');
    const task = args.task ?? 'generate';
    if (!(TASKS as readonly string[]).includes(task)) throw new ReplayInputError(`--task must be one of ${TASKS.join(', ')}`);
    let priceWeight: number | undefined;
    if (args['price-weight'] !== undefined) {
      priceWeight = Number(args['price-weight']);
      if (!Number.isFinite(priceWeight) || priceWeight < 0 || priceWeight > 10) throw new ReplayInputError('--price-weight must be a number from 0 to 10');
    }
    const matrixFile = positionals[0];
    const matrix = readOutcomeMatrix(readText(matrixFile, 'matrix'), { exclude: args['exclude-column'] });
    const costs = args.costs ? readCostFile(readText(args.costs, 'costs file')) : undefined;
    const result = runReplay(matrix, {
      pool: args.pool.split(',').map((m) => m.trim()).filter(Boolean),
      strong: args.strong.trim(),
      maxAttempts: wholeNumber(args['max-attempts'], 1, '--max-attempts'),
      seeds: wholeNumber(args.seeds, 10, '--seeds'),
      costs,
      task: task as Task,
      priceWeight,
    });
    if (matrix.excludedRows > 0) process.stderr.write(`replay: ${matrix.excludedRows} row(s) left out by --exclude-column\n`);
    for (const { column, why } of matrix.ignoredColumns) process.stderr.write(`replay: column ${column} is not used as context: ${why}\n`);
    if (args.json) {
      const { policies, tasks, seeds } = result;
      const { max_attempts, price_weight, features, exploration_rate, learned_by_seed, best_chains, models, context_ceiling, models_hull_at_learned_cost } = result;
      process.stdout.write(
        `${JSON.stringify({ tasks, seeds, policies, max_attempts, price_weight, features, exploration_rate, learned_by_seed, best_chains, models, context_ceiling, models_hull_at_learned_cost }, null, 2)}\n`,
      );
      return 0;
    }
    process.stdout.write(`${replayTable(result)}\n`);
    const plot = args.plot ?? 'replay.svg';
    const title = `${path.basename(matrixFile)}: ${result.tasks} tasks, ${result.seeds} seeds, max ${result.max_attempts} attempts`;
    writeFileSync(plot, replaySvg(result, title));
    process.stdout.write(`plot: ${path.resolve(plot)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof ReplayInputError) {
      process.stderr.write(`coderoute replay: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

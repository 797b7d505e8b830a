/**
 * A recorded outcome matrix: for each task, how each model did and what it cost. Read from a CSV
 * in long format (one row per task and model), for `coderoute replay`.
 */

/** Bad input: the command line says so and exits with code 2. */
export class ReplayInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayInputError';
  }
}

/** Rows of a CSV file (RFC 4180: quoted fields may hold commas, quotes and line breaks). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (quoted) throw new ReplayInputError('the CSV ends inside a quoted field');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

export interface OutcomeMatrix {
  /** Tasks in file order. */
  tasks: string[];
  models: string[];
  /** The outcome column used: `resolved` (0/1) or `pass_at_1` (a probability). */
  outcomeColumn: string;
  /** task → model → probability of acceptance (0 or 1 for `resolved`). */
  outcome: Map<string, Map<string, number>>;
  /** task → model → dollars, when the matrix has `cost_usd`. */
  cost?: Map<string, Map<string, number>>;
  /** task → its context features, in column order. */
  features: Map<string, [string, string][]>;
  /** Columns used as context features, and the others left out with the reason. */
  featureColumns: string[];
  ignoredColumns: { column: string; why: string }[];
  /** Rows dropped by `exclude` filters. */
  excludedRows: number;
}

export interface MatrixOptions {
  /** `column=value` pairs: rows with that value are left out. */
  exclude?: readonly string[];
}

const OUTCOME_COLUMNS = ['resolved', 'pass_at_1'];
/** A column with more distinct values than this is an identifier, not a context feature. */
const MAX_FEATURE_VALUES = 64;

function parseExclude(spec: string): [string, string] {
  const at = spec.indexOf('=');
  if (at <= 0) throw new ReplayInputError(`--exclude-column wants COLUMN=VALUE, not "${spec}"`);
  return [spec.slice(0, at), spec.slice(at + 1)];
}

/** Reads a long-format outcome matrix; throws ReplayInputError naming what is wrong. */
export function readOutcomeMatrix(text: string, options: MatrixOptions = {}): OutcomeMatrix {
  const rows = parseCsv(text);
  if (rows.length < 2) throw new ReplayInputError('the matrix has no rows');
  const header = rows[0].map((h) => h.trim());
  const col = (name: string) => header.indexOf(name);
  for (const required of ['task_id', 'model']) {
    if (col(required) < 0) throw new ReplayInputError(`the matrix has no "${required}" column (columns: ${header.join(', ')})`);
  }
  const outcomeColumn = OUTCOME_COLUMNS.find((c) => col(c) >= 0);
  if (!outcomeColumn) throw new ReplayInputError(`the matrix has no outcome column: one of ${OUTCOME_COLUMNS.join(', ')} (columns: ${header.join(', ')})`);
  const excludes = (options.exclude ?? []).map(parseExclude);
  for (const [column] of excludes) {
    if (col(column) < 0) throw new ReplayInputError(`--exclude-column names "${column}", which is not a column (columns: ${header.join(', ')})`);
  }
  const taskCol = col('task_id');
  const modelCol = col('model');
  const outcomeCol = col(outcomeColumn);
  const costCol = col('cost_usd');
  const candidateFeatures = header.map((name, index) => ({ name, index })).filter(({ index }) => ![taskCol, modelCol, outcomeCol, costCol].includes(index));

  const outcome = new Map<string, Map<string, number>>();
  const cost = costCol >= 0 ? new Map<string, Map<string, number>>() : undefined;
  const taskValues = new Map<string, string[]>();
  const varies = new Set<string>();
  const models: string[] = [];
  let excludedRows = 0;
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    if (row.length !== header.length) throw new ReplayInputError(`row ${r + 1} has ${row.length} fields, the header ${header.length}`);
    if (excludes.some(([column, value]) => row[col(column)] === value)) {
      excludedRows++;
      continue;
    }
    const task = row[taskCol];
    const model = row[modelCol];
    if (!task || !model) throw new ReplayInputError(`row ${r + 1} has no task_id or model`);
    const value = Number(row[outcomeCol]);
    if (row[outcomeCol].trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
      throw new ReplayInputError(`row ${r + 1}: ${outcomeColumn} must be a number from 0 to 1, not "${row[outcomeCol]}"`);
    }
    if (outcomeColumn === 'resolved' && value !== 0 && value !== 1) throw new ReplayInputError(`row ${r + 1}: resolved must be 0 or 1, not "${row[outcomeCol]}"`);
    if (!models.includes(model)) models.push(model);
    let byModel = outcome.get(task);
    if (!byModel) {
      byModel = new Map();
      outcome.set(task, byModel);
      taskValues.set(task, candidateFeatures.map(({ index }) => row[index]));
    } else {
      const first = taskValues.get(task) ?? [];
      candidateFeatures.forEach(({ name, index }, i) => {
        if (row[index] !== first[i]) varies.add(name);
      });
    }
    if (byModel.has(model)) throw new ReplayInputError(`row ${r + 1}: task "${task}" has a second row for model "${model}"`);
    byModel.set(model, value);
    if (cost && costCol >= 0) {
      const dollars = Number(row[costCol]);
      if (row[costCol].trim() !== '') {
        if (!Number.isFinite(dollars) || dollars < 0) throw new ReplayInputError(`row ${r + 1}: cost_usd must be a number of dollars, not "${row[costCol]}"`);
        let costs = cost.get(task);
        if (!costs) {
          costs = new Map();
          cost.set(task, costs);
        }
        costs.set(model, dollars);
      }
    }
  }
  if (outcome.size === 0) throw new ReplayInputError('every row was excluded');

  // A context feature is a fact about the task: the same for every model, with few values.
  const featureColumns: string[] = [];
  const ignoredColumns: { column: string; why: string }[] = [];
  candidateFeatures.forEach(({ name }, i) => {
    const distinct = new Set([...taskValues.values()].map((v) => v[i]));
    if (varies.has(name)) ignoredColumns.push({ column: name, why: 'differs between models of a task (a result, not context)' });
    else if (distinct.size > Math.min(MAX_FEATURE_VALUES, outcome.size / 4)) ignoredColumns.push({ column: name, why: `${distinct.size} distinct values (an identifier, not context)` });
    else if (distinct.size < 2) ignoredColumns.push({ column: name, why: 'one value for every task' });
    else featureColumns.push(name);
  });
  const featureIndex = featureColumns.map((name) => candidateFeatures.findIndex((c) => c.name === name));
  const features = new Map<string, [string, string][]>();
  for (const [task, values] of taskValues) features.set(task, featureIndex.map((i, k) => [featureColumns[k], values[i]]));
  return { tasks: [...outcome.keys()], models, outcomeColumn, outcome, cost, features, featureColumns, ignoredColumns, excludedRows };
}

/** `model,usd_per_task` rows: a nominal cost per task for matrices without one. */
export function readCostFile(text: string): Map<string, number> {
  const rows = parseCsv(text);
  const header = rows[0]?.map((h) => h.trim()) ?? [];
  const modelCol = header.indexOf('model');
  const costCol = header.indexOf('usd_per_task');
  if (modelCol < 0 || costCol < 0) throw new ReplayInputError(`the costs file needs the columns model and usd_per_task (it has: ${header.join(', ')})`);
  const costs = new Map<string, number>();
  rows.slice(1).forEach((row, i) => {
    const dollars = Number(row[costCol]);
    if (!Number.isFinite(dollars) || dollars < 0 || (row[costCol] ?? '').trim() === '') throw new ReplayInputError(`costs file row ${i + 2}: usd_per_task must be a number of dollars, not "${row[costCol]}"`);
    costs.set(row[modelCol], dollars);
  });
  return costs;
}

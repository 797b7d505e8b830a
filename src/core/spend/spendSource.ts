import type { OutcomeLine, SettleLine } from './spendRecord';

/** One budget and where it stands. */
export interface BudgetStatus {
  /** `daily`, `monthly`, or `task:<task>` (a daily budget for one task). */
  id: string;
  /** "Daily", "Monthly", "Daily for debug". */
  label: string;
  limitUsd: number;
  /** Settled spend in the budget's period. */
  spentUsd: number;
  /** Money held by calls in flight. */
  reservedUsd: number;
  /** (spent + reserved) / limit. */
  share: number;
  /** The highest warning threshold reached (0.5, 0.75, 0.9…), 1 at the limit, 0 below the first. */
  level: number;
  /** What happens at the limit. */
  onLimit: 'step-down' | 'stop';
}

/** What the spend views read: the ledger's settled records and verdicts, and the budgets. */
export interface SpendSource {
  /** Every settled request, oldest first. */
  settled(): readonly SettleLine[];
  /** The users' verdicts on settled requests, oldest first. */
  outcomes(): readonly OutcomeLine[];
  budgets(now?: number): BudgetStatus[];
  /** Calls `listener` when a record settles or a verdict arrives; returns the unsubscribe function. */
  onDidChange(listener: () => void): () => void;
}

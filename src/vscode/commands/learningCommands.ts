import * as vscode from 'vscode';
import type { LearningState } from '../../core/learn/learner';
import type { CodeRouteContext } from '../coderouteContext';
import { exportToFile } from '../ui/exportFile';

export const EXPORT_FILE_NAME = 'coderoute-learning.json';

/**
 * CodeRoute: Reset Learning. Forgets every learned statistic after a modal confirmation and saves
 * the empty state. `{ confirm: false }` skips the question, for scripts (and the tests, which
 * cannot answer a modal dialog). True when the state was reset.
 */
export async function resetLearning(ctx: CodeRouteContext, options?: unknown): Promise<boolean> {
  const ask = !(typeof options === 'object' && options !== null && (options as { confirm?: unknown }).confirm === false);
  if (ask) {
    const choice = await vscode.window.showWarningMessage(
      'Reset what CodeRoute has learned about which models you accept?',
      { modal: true, detail: 'Routing goes back to the tier priors. This cannot be undone; Export Learning State first to keep a copy.' },
      'Reset',
    );
    if (choice !== 'Reset') return false;
  }
  const learner = await ctx.learning.ready();
  learner.reset();
  await ctx.learning.save();
  ctx.log.info('learning: reset by the user');
  vscode.window.setStatusBarMessage('CodeRoute: learning reset', 4000);
  return true;
}

/**
 * CodeRoute: Export Learning State. Writes the versioned state (the same JSON that is saved) to a
 * file the user picks, or to `target` when a script passes one. The file written, or undefined.
 */
export async function exportLearning(ctx: CodeRouteContext, target?: unknown): Promise<vscode.Uri | undefined> {
  return exportToFile({
    target,
    title: 'CodeRoute: Export Learning State',
    defaultName: EXPORT_FILE_NAME,
    filters: { JSON: ['json'] },
    what: 'the learning state',
    content: async () => `${JSON.stringify((await ctx.learning.ready()).toJSON(), null, 2)}\n`,
    log: ctx.log,
  });
}

/** What the hidden `coderoute.learningState` command answers (tests and scripts). */
export interface LearningStateReport {
  enabled: boolean;
  /** Where the state is saved; undefined when it is kept in memory only. */
  file?: string;
  state: LearningState;
}

export async function learningState(ctx: CodeRouteContext): Promise<LearningStateReport> {
  const learner = await ctx.learning.ready();
  return { enabled: ctx.settings.current.settings.learning.enabled, file: ctx.learning.path, state: learner.toJSON() };
}

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { silentLogger } from '../../src/core/log/logger';
import { WorkerTokenCounter } from '../../src/core/tokens/workerTokenCounter';
import { REPO_ROOT } from './repoRoot';

describe('the real tokenizer in a worker thread', () => {
  const script = path.join(REPO_ROOT, 'dist', 'tokenizerWorker.js');

  it('counts tokens with the o200k encoding, not by characters', async () => {
    const counter = new WorkerTokenCounter({ script, logger: silentLogger });
    try {
      // Known o200k_base counts: common English words are one token each; a long run of one
      // character compresses into few tokens, where a character rule would say 25.
      const [words, empty, run] = await counter.count(['hello world', '', 'a'.repeat(100)]);
      assert.equal(words, 2);
      assert.equal(empty, 0);
      assert.ok(run < 25, `100 repeated characters made ${run} tokens`);
    } finally {
      counter.dispose();
    }
  });

  it('answers concurrent counts in order, and starts again after being stopped', async () => {
    const counter = new WorkerTokenCounter({ script, logger: silentLogger, idleMs: 10 });
    try {
      const texts = Array.from({ length: 20 }, (_, i) => 'word '.repeat(i + 1).trim());
      const counts = await Promise.all(texts.map((t) => counter.count([t]).then(([n]) => n)));
      assert.deepEqual(counts, texts.map((_, i) => i + 1));
      counter.dispose();
      assert.deepEqual(await counter.count(['one more']), [2]);
    } finally {
      counter.dispose();
    }
  });

  it('fails clearly, without hanging, when the worker cannot start', async () => {
    const counter = new WorkerTokenCounter({ script: path.join(REPO_ROOT, 'dist', 'no-such-worker.js'), logger: silentLogger });
    await assert.rejects(counter.count(['x']));
    counter.dispose();
  });
});

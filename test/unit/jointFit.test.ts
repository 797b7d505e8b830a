import * as assert from 'node:assert/strict';
import { JointFit, leafKeys } from '../../src/core/learn/jointFit';

const logistic = (x: number) => 1 / (1 + Math.exp(-x));
/** A fit with a prior worth 8 observations (the learner's default) and no price list. */
const newFit = () => new JointFit({ tau: 2, costPrior: 2 });
const rate = (s: number, n: number) => ({ s, n, lc: 0, cn: 0 });
/** The path of a leaf as the learner asks for it: `*`, then each level's bucket. */
const pathOf = (leaf: string) => ['*', ...leafKeys(leaf)];
/** Models a and b with the same counts in two contexts; the third model's rows are the test's. */
const pairIn = (fit: JointFit, [leafA, countsA]: [string, ReturnType<typeof rate>], [leafB, countsB]: [string, ReturnType<typeof rate>]) => {
  for (const model of ['a', 'b']) {
    fit.setRow(model, leafA, countsA, 0);
    fit.setRow(model, leafB, countsB, 0);
  }
};
const acceptance = (fit: JointFit, model: string, leaf: string) => {
  fit.fit();
  return logistic(fit.value(model, pathOf(leaf)).odds);
};

describe('joint fit of first answers', () => {
  it('reads a leaf as the nested buckets that end in it', () => {
    assert.deepEqual(leafKeys('task=debug|lang=go|difficulty=2'), ['task=debug', 'task=debug|lang=go', 'task=debug|lang=go|difficulty=2']);
    assert.deepEqual(leafKeys('*'), []);
  });

  it('takes a context where every model fails for hard, also for a model never tried there, and names it', () => {
    const fit = newFit();
    pairIn(fit, ['task=debug|lang=go', rate(16, 20)], ['task=debug|lang=rust', rate(4, 20)]);
    fit.setRow('c', 'task=debug|lang=go', rate(16, 20), 0);
    const inRust = acceptance(fit, 'c', 'task=debug|lang=rust');
    const inGo = acceptance(fit, 'c', 'task=debug|lang=go');
    assert.ok(inRust < inGo - 0.2, `c, never tried in rust, is expected to find it harder (${inRust.toFixed(2)} against ${inGo.toFixed(2)})`);
    const value = fit.value('c', pathOf('task=debug|lang=rust'));
    assert.equal(value.strongest?.bucket, 'task=debug|lang=rust');
    assert.ok((value.strongest?.shift ?? 0) < -0.5);
  });

  it('does not take a model tried only on hard requests for a weak one', () => {
    const fit = newFit();
    // a and b in both contexts: hard is hard for both. c answered only hard requests, as often as they did.
    pairIn(fit, ['task=debug|difficulty=0', rate(18, 20)], ['task=debug|difficulty=3', rate(6, 20)]);
    fit.setRow('c', 'task=debug|difficulty=3', rate(6, 20), 0);
    const easyForC = acceptance(fit, 'c', 'task=debug|difficulty=0');
    assert.ok(easyForC > 0.75, `c on easy requests (${easyForC.toFixed(2)})`);
  });

  it('counts an answer once: a fact that has not varied adds no weight and no uncertainty', () => {
    // The same 3 failures of a model that does well elsewhere, once in a leaf two facts deep and
    // once three facts deep, the third fact with one value only: it adds a level, not evidence.
    const shallow = newFit();
    const deep = newFit();
    for (const [fit, extra] of [
      [shallow, ''],
      [deep, '|repo=x'],
    ] as const) {
      for (const model of ['a', 'b']) fit.setRow(model, `task=gen|lang=go${extra}`, rate(16, 20), 0);
      fit.setRow('a', `task=gen|lang=rust${extra}`, rate(0, 3), 0);
      fit.setRow('b', `task=gen|lang=rust${extra}`, rate(2, 3), 0);
    }
    const before = acceptance(shallow, 'a', 'task=gen|lang=go');
    const atTwo = acceptance(shallow, 'a', 'task=gen|lang=rust');
    const atThree = acceptance(deep, 'a', 'task=gen|lang=rust|repo=x');
    assert.ok(atTwo < before - 0.2, `the failures count (${before.toFixed(3)} → ${atTwo.toFixed(3)})`);
    // A fit per level, each centred on the one above, would count them again at each level.
    assert.ok(Math.abs(atThree - atTwo) < 1e-9, `two facts deep ${atTwo.toFixed(3)}, three facts deep ${atThree.toFixed(3)}`);
    assert.equal(shallow.value('a', pathOf('task=gen|lang=rust')).variance, deep.value('a', pathOf('task=gen|lang=rust|repo=x')).variance);
    // Only one task was ever asked for: it is not named as what makes requests hard.
    assert.equal(deep.value('a', pathOf('task=gen|lang=rust|repo=x')).strongest?.bucket, 'task=gen|lang=rust');
  });

  it('learns how much each level matters: contexts that make no difference stop adding uncertainty', () => {
    const fit = newFit();
    // Twelve repositories, all alike for both models.
    for (let repo = 0; repo < 12; repo++) for (const model of ['a', 'b']) fit.setRow(model, `task=gen|repo=${repo}`, rate(10, 20), 0);
    fit.fit();
    const unseen = fit.value('a', pathOf('task=gen|repo=new'));
    const fresh = newFit();
    fresh.setRow('a', 'task=gen|repo=0', rate(10, 20), 0);
    fresh.fit();
    const unsure = fresh.value('a', pathOf('task=gen|repo=new'));
    assert.ok(unseen.variance < unsure.variance - 0.3, `a new repository where repositories differ little (${unseen.variance.toFixed(2)}) against one where nothing is known of how they differ (${unsure.variance.toFixed(2)})`);
  });

  it('is as sure of a model in a context as its own answers there make it, at least', () => {
    const fit = newFit();
    pairIn(fit, ['task=gen|lang=go', rate(80, 100)], ['task=gen|lang=rust', rate(40, 100)]);
    fit.fit();
    const here = fit.value('a', pathOf('task=gen|lang=rust'));
    const q = logistic(here.odds);
    assert.ok(here.variance <= 1 / (100 * q * (1 - q)) + 1e-12, `variance ${here.variance.toFixed(4)} after 100 answers at ${q.toFixed(2)}`);
    // A context the model has not answered in stays as unsure as what is known of it says.
    fit.setRow('c', 'task=gen|lang=go', rate(8, 10), 0);
    fit.fit();
    assert.ok(fit.value('c', pathOf('task=gen|lang=rust')).variance > fit.value('c', pathOf('task=gen|lang=go')).variance);
  });

  it('names the broadest of facts the answers cannot tell apart', () => {
    const fit = newFit();
    pairIn(fit, ['task=debug|lang=go|difficulty=2', rate(16, 20)], ['task=debug|lang=rust|difficulty=2', rate(3, 20)]);
    fit.fit();
    const value = fit.value('a', pathOf('task=debug|lang=rust|difficulty=2'));
    assert.equal(value.strongest?.bucket, 'task=debug|lang=rust', 'every rust answer is also of difficulty 2: the language is named');
  });

  it('learns cost factors on the same terms: a context dear for every model, dear for a model not charged there', () => {
    const fit = newFit();
    const charged = (factor: number) => ({ s: 5, n: 10, lc: 10 * Math.log(factor), cn: 10 });
    for (const model of ['a', 'b']) {
      fit.setRow(model, 'task=gen|repo=small', charged(1), 0);
      fit.setRow(model, 'task=gen|repo=big', charged(3), 0);
    }
    fit.setRow('c', 'task=gen|repo=small', charged(1), 0);
    fit.fit();
    const big = Math.exp(fit.value('c', pathOf('task=gen|repo=big')).logCost);
    const small = Math.exp(fit.value('c', pathOf('task=gen|repo=small')).logCost);
    assert.ok(big > 1.8 * small, `c in the big repository ${big.toFixed(2)}× its list price, in the small one ${small.toFixed(2)}×`);
  });

  it('takes in changed counts and a changed tier prior at the next fit', () => {
    const fit = newFit();
    fit.setRow('a', 'task=gen', rate(2, 10), 0);
    const low = acceptance(fit, 'a', 'task=gen');
    assert.equal(fit.stale, false);
    fit.setRow('a', 'task=gen', rate(9, 10), 0);
    assert.equal(fit.stale, true);
    const high = acceptance(fit, 'a', 'task=gen');
    assert.ok(high > low + 0.3, `${low.toFixed(2)} → ${high.toFixed(2)}`);
    // A tier prior 2 in log-odds higher (new tiers): the estimate rises, and the fit's own part
    // falls, as it explains less of the answers' rate.
    const ownBefore = fit.value('a', pathOf('task=gen')).odds;
    fit.setRow('a', 'task=gen', rate(9, 10), 2);
    assert.equal(fit.stale, true);
    fit.fit();
    const ownAfter = fit.value('a', pathOf('task=gen')).odds;
    const withPrior = logistic(2 + ownAfter);
    assert.ok(withPrior > high && ownAfter < ownBefore, `${high.toFixed(2)} with a prior of 0, ${withPrior.toFixed(2)} with a prior of 2 (own part ${ownBefore.toFixed(2)} → ${ownAfter.toFixed(2)})`);
  });
});

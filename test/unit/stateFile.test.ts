import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ModelConfig } from '../../src/core/config/settingsSchema';
import { Learner } from '../../src/core/learn/learner';
import { LEARNING_FILE, corruptFileName, readLearningFile, writeFileAtomically, writeFileAtomicallySync } from '../../src/core/learn/stateFile';
import type { EstimateContext } from '../../src/core/route/estimates';

const MODEL: ModelConfig = { id: 'mini', provider: 'p', name: 'mini', tags: ['cheap'], balance: 'round-robin', capabilities: ['chat'] };
const CONTEXT: EstimateContext = { task: 'explain', language: 'typescript', difficulty: 0.3 };
const AT = new Date('2024-05-01T10:20:30.123Z');
const CORRUPT_NAME = /^learning\.corrupt-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z(-\d+)?\.json$/;

/** A learner that has seen a few signals, at a fixed time so its JSON is repeatable. */
function trainedLearner(): Learner {
  const learner = new Learner({ now: () => AT.getTime() });
  ['r1', 'r2', 'r3'].forEach((id, i) => {
    learner.record(id, MODEL.id, CONTEXT);
    learner.observe(id, i === 0 ? 'accepted' : 'thumbs-down');
  });
  return learner;
}

describe('learning state file', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'coderoute-learning-'));
    file = path.join(dir, LEARNING_FILE);
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const files = () => readdirSync(dir).sort();

  it('round-trips a learner through the file, creating the folder', async () => {
    const nested = path.join(dir, 'not', 'yet', LEARNING_FILE);
    const learner = trainedLearner();
    await writeFileAtomically(nested, JSON.stringify(learner.toJSON(), null, 2));
    const restored = new Learner({ now: () => AT.getTime() });
    const read = await readLearningFile(nested, { load: (data) => restored.load(data) });
    assert.equal(read.kind, 'state');
    assert.deepEqual(restored.toJSON(), learner.toJSON());
    const [a, b] = [restored.estimate(MODEL, CONTEXT), learner.estimate(MODEL, CONTEXT)];
    assert.equal(a.samples, b.samples);
    assert.ok(Math.abs(a.p - b.p) < 1e-9 && Math.abs((a.sd ?? 0) - (b.sd ?? 0)) < 1e-9, 'the same estimate after a restart');
    assert.deepEqual(readdirSync(path.dirname(nested)), [LEARNING_FILE], 'no temporary file is left behind');
  });

  it('writes synchronously the same way (the last save at shutdown)', async () => {
    const nested = path.join(dir, 'sync', LEARNING_FILE);
    writeFileAtomicallySync(nested, 'old');
    const state = JSON.stringify(trainedLearner().toJSON());
    writeFileAtomicallySync(nested, state);
    assert.equal(readFileSync(nested, 'utf8'), state);
    assert.deepEqual(readdirSync(path.dirname(nested)), [LEARNING_FILE]);
    assert.equal((await readLearningFile(nested)).kind, 'state');
  });

  it('reports nothing there when there is no file', async () => {
    assert.deepEqual(await readLearningFile(file), { kind: 'empty' });
    assert.deepEqual(files(), []);
  });

  it('replaces an existing state as a whole', async () => {
    await writeFileAtomically(file, 'old');
    await writeFileAtomically(file, JSON.stringify(trainedLearner().toJSON()));
    assert.equal((await readLearningFile(file)).kind, 'state');
    assert.deepEqual(files(), [LEARNING_FILE]);
  });

  it('a crash between writing the temporary file and renaming it leaves the old state intact and readable', async () => {
    const old = JSON.stringify(trainedLearner().toJSON());
    await writeFileAtomically(file, old);
    // What a crash after the temporary file was written (here: half written) leaves behind.
    const stray = `${file}.4242-0123456789ab.tmp`;
    writeFileSync(stray, old.slice(0, old.length / 2));

    const restored = new Learner();
    const read = await readLearningFile(file, { load: (data) => restored.load(data) });
    assert.equal(read.kind, 'state');
    assert.equal(readFileSync(file, 'utf8'), old);
    assert.ok(restored.rememberedRequests > 0);

    // The next save still works and does not disturb the stray file.
    const next = new Learner();
    await writeFileAtomically(file, JSON.stringify(next.toJSON()));
    assert.equal((await readLearningFile(file)).kind, 'state');
    assert.deepEqual(files(), [LEARNING_FILE, path.basename(stray)].sort());
  });

  it('ignores a stale temporary file when there is no state', async () => {
    const stray = `${file}.99-ffffffffffff.tmp`;
    writeFileSync(stray, JSON.stringify(trainedLearner().toJSON()));
    assert.deepEqual(await readLearningFile(file), { kind: 'empty' });
    assert.deepEqual(files(), [path.basename(stray)], 'nothing was read, moved or deleted');
  });

  it('sets truncated JSON aside with the reason, keeping its bytes', async () => {
    const whole = JSON.stringify(trainedLearner().toJSON());
    const truncated = whole.slice(0, Math.floor(whole.length * 0.6));
    writeFileSync(file, truncated);
    const learner = trainedLearner();
    const before = learner.toJSON();
    const read = await readLearningFile(file, { load: (data) => learner.load(data), now: () => AT });
    assert.equal(read.kind, 'corrupt');
    assert.match(read.reason, /not valid JSON/);
    assert.equal(read.movedTo, path.join(dir, 'learning.corrupt-2024-05-01T10-20-30.123Z.json'));
    assert.equal(readFileSync(read.movedTo, 'utf8'), truncated);
    assert.equal(existsSync(file), false, 'the corrupt file is no longer where the next save goes');
    assert.deepEqual(learner.toJSON(), before, 'the learner is unchanged');
  });

  it('sets garbage aside with the original bytes (not re-encoded)', async () => {
    const garbage = Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x80, 0x81, 0x0a, 0xc3]);
    writeFileSync(file, garbage);
    const read = await readLearningFile(file);
    assert.equal(read.kind, 'corrupt');
    assert.match(read.reason, /not valid JSON/);
    assert.match(path.basename(read.movedTo), CORRUPT_NAME);
    assert.deepEqual(readFileSync(read.movedTo), garbage);
    assert.deepEqual(files(), [path.basename(read.movedTo)]);
  });

  it('sets a state of another version aside with the learner’s reason', async () => {
    const text = JSON.stringify({ ...trainedLearner().toJSON(), version: 4 }, null, 2);
    writeFileSync(file, text);
    const learner = new Learner();
    const read = await readLearningFile(file, { load: (data) => learner.load(data) });
    assert.equal(read.kind, 'corrupt');
    assert.match(read.reason, /not a CodeRoute learning state \(version: /);
    assert.equal(readFileSync(read.movedTo, 'utf8'), text);
    assert.equal(learner.rememberedRequests, 0);
  });

  it('checks the state by default: valid JSON that is not a learning state is set aside too', async () => {
    writeFileSync(file, '{"format":"something-else"}');
    const read = await readLearningFile(file);
    assert.equal(read.kind, 'corrupt');
    assert.match(read.reason, /format/);
  });

  it('never overwrites an earlier corrupt file', async () => {
    writeFileSync(file, '{ first');
    const first = await readLearningFile(file, { now: () => AT });
    writeFileSync(file, '{ second');
    const second = await readLearningFile(file, { now: () => AT });
    assert.ok(first.kind === 'corrupt' && second.kind === 'corrupt');
    assert.notEqual(first.movedTo, second.movedTo);
    assert.equal(second.movedTo, corruptFileName(file, AT, 1));
    assert.equal(readFileSync(first.movedTo, 'utf8'), '{ first');
    assert.equal(readFileSync(second.movedTo, 'utf8'), '{ second');
    for (const name of files()) assert.match(name, CORRUPT_NAME);
  });

  it('does not set aside a file it could not read', async () => {
    mkdirSync(file);
    await assert.rejects(readLearningFile(file), (error: NodeJS.ErrnoException) => error.code === 'EISDIR');
    assert.deepEqual(files(), [LEARNING_FILE]);
  });
});

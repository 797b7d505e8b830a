import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { ClassifyMode } from '../../src/core/classify/classification';
import { Classifier } from '../../src/core/classify/classifier';
import { TreeSitterLoader } from '../../src/core/classify/treeSitterLoader';
import { silentLogger } from '../../src/core/log/logger';
import { request } from '../support/classifyRequest';
import { REPO_ROOT } from './repoRoot';

/** The cursor in these sources; `|` is code in Ruby and shell. */
const AT = '█';

/**
 * Code left unfinished (issue 15): a body that holds only a placeholder, or a signature with no
 * body yet, asks for the body to be written, with the cursor below the placeholder or at the end
 * of its line; and the reason says what was found. Code that merely looks alike stays as it was.
 */
describe('classifier: placeholders and bare signatures', () => {
  const loader = new TreeSitterLoader(path.join(REPO_ROOT, 'dist', 'wasm'), silentLogger);
  const classifier = new Classifier(loader, silentLogger, { parseTimeCapMs: 5000 });
  after(() => {
    classifier.dispose();
    loader.dispose();
  });
  const classify = (languageId: string, source: string, mode: ClassifyMode) => classifier.classify(request(languageId, source, [], AT), mode);
  /** Both modes: the automatic action generates, an inline completion writes a block; the reason names `why`. */
  const expectBody = async (languageId: string, source: string, why: RegExp) => {
    for (const [mode, task] of [['auto', 'generate'], ['inline', 'complete-block']] as const) {
      const result = await classify(languageId, source, mode);
      assert.equal(result.task, task, `${languageId} ${mode}: ${result.reason}`);
      assert.match(result.reason, why, `${languageId} ${mode}`);
    }
  };

  describe('a body that holds only a placeholder', () => {
    const cases: [string, string, RegExp][] = [
      ['python', `def area(r):\n    pass${AT}\n\n\ndef other():\n    return 1\n`, /body is only pass/],
      ['python', `def area(r):\n    ...\n    ${AT}\n\ndef other():\n    return 1\n`, /body is only \.\.\./],
      ['python', `class Shape:\n    def area(self):\n        """Return the area."""${AT}\n\n    def name(self):\n        return "shape"\n`, /body is only a docstring/],
      ['python', `def area(r):\n    """Return the area."""\n    raise NotImplementedError${AT}\n\ndef other():\n    return 1\n`, /a docstring and raise NotImplementedError/],
      ['python', `class Shape:\n    def area(self):\n        # TODO: implement${AT}\n\n\nprint(1)\n`, /body is only a TODO comment/],
      ['typescript', `export function parse(input: string): Ast {\n  throw new Error('not implemented');${AT}\n}\n\nexport const x = 1;\n`, /throw new Error\('not implemented'\)/],
      ['typescript', `class Store {\n  load(id: string): Item | null {\n    return null; // TODO${AT}\n  }\n}\n`, /return null; and a TODO comment/],
      ['javascript', `function area(r) {\n  // TODO: compute it${AT}\n}\n\nmodule.exports = { area };\n`, /body is only a TODO comment/],
      ['javascript', `function area(r) {\n  // FIXME\n  ${AT}\n}\n`, /TODO comment/],
      ['java', `class Shape {\n  double area() {\n    // TODO Auto-generated method stub\n    return 0;${AT}\n  }\n}\n`, /return 0; and a TODO comment/],
      ['java', `class Shape {\n  double area() {\n    throw new UnsupportedOperationException();${AT}\n  }\n}\n`, /UnsupportedOperationException/],
      ['csharp', `class Shape {\n  public double Area() {\n    throw new NotImplementedException();${AT}\n  }\n}\n`, /NotImplementedException/],
      ['cpp', `double area(double r) {\n  throw std::logic_error("not implemented");${AT}\n}\n`, /not implemented/],
      ['c', `int area(int r) {\n  return 0; /* TODO */${AT}\n}\n`, /return 0; and a TODO comment/],
      ['go', `package shapes\n\nfunc Area(r float64) float64 {\n\tpanic("TODO")${AT}\n}\n`, /panic\("TODO"\)/],
      ['rust', `fn area(r: f64) -> f64 {\n    todo!()${AT}\n}\n\nfn main() {}\n`, /todo!\(\)/],
      ['rust', `impl Shape {\n    fn area(&self) -> f64 {\n        unimplemented!("later");\n        ${AT}\n    }\n}\n`, /unimplemented!/],
      ['ruby', `class Shape\n  def area\n    raise NotImplementedError${AT}\n  end\nend\n`, /raise NotImplementedError/],
      ['php', `<?php\nclass Shape {\n  public function area() {\n    throw new \\Exception('Not implemented');${AT}\n  }\n}\n`, /Not implemented/],
      ['shellscript', `area() {\n  echo "not implemented" >&2\n  return 1${AT}\n}\n`, /not implemented/],
    ];
    for (const [language, source, why] of cases) {
      it(`${language}: ${why.source}`, () => expectBody(language, source, why));
    }

    it('a syntax error in the function itself is still a bug to fix', async () => {
      const result = await classify('typescript', `function area(r: number, {\n  // TODO${AT}\n}\n\nconst y = 2;\n`, 'auto');
      assert.equal(result.task, 'debug', result.reason);
    });

    it("a type checker's complaint about the missing body does not make it a bug to fix", async () => {
      const source = `function area(r: number): number {\n  // TODO${AT}\n}\n`;
      const mustReturn = {
        range: { start: { line: 0, character: 26 }, end: { line: 0, character: 32 } },
        message: "A function whose declared type is neither 'undefined', 'void', nor 'any' must return a value.",
        severity: 'error' as const,
      };
      const result = await classifier.classify(request('typescript', source, [mustReturn], AT), 'auto');
      assert.equal(result.task, 'generate', result.reason);
    });

    it('a function with real code, one statement long, is not a placeholder', async () => {
      for (const [language, source] of [
        ['typescript', `function name(): string {\n  return this.first;${AT}\n}\n`],
        ['python', `def name(self):\n    return self._stub${AT}\n\ndef other():\n    pass\n`],
        ['javascript', `function reset() {\n  return null;${AT}\n}\n`],
        ['go', `func (s *S) Close() error {\n\treturn s.f.Close()${AT}\n}\n`],
        ['python', `def node():\n    """Get the address."""\n    # the only supported approach\n    return${AT}\n\n\nx = 1\n`],
      ]) {
        const result = await classify(language, source, 'inline');
        assert.equal(result.features.unfinished, undefined, `${language}: ${result.reason}`);
        assert.notEqual(result.task, 'complete-block', `${language}: ${result.reason}`);
      }
    });

    it('inside a placeholder comment, mid-sentence, the comment is being written', async () => {
      const result = await classify('typescript', `function area(r: number) {\n  // TODO: compute ${AT}the area\n}\n`, 'inline');
      assert.equal(result.task, 'complete-comment', result.reason);
    });

    it('a describing comment that is not a TODO, cursor at its end, is still a comment being written', async () => {
      const result = await classify('javascript', `function area(r) {\n  // the area of a circle of radius r${AT}\n}\n`, 'inline');
      assert.equal(result.task, 'complete-comment', result.reason);
    });
  });

  describe('a signature with no body yet', () => {
    const cases: [string, string][] = [
      ['python', `import math\n\ndef area(r):${AT}\n\ndef other():\n    return 1\n`],
      ['python', `def area(r):${AT}`],
      ['python', `class Shape:\n    def area(\n        self,\n        scale: float,\n    ) -> float:${AT}\n\n    def name(self):\n        return "s"\n`],
      ['typescript', `export function area(r: number): number {${AT}\n\nexport const pi = 3.14;\n`],
      ['typescript', `export class Store {\n  load(id: string): Promise<Item> {\n    ${AT}\n\n  save(item: Item): void {\n    this.items.push(item);\n  }\n}\n`],
      ['javascript', `const handlers = {\n  onStart(event) {${AT}\n};\n`],
      ['java', `class Shape {\n  public double area(double scale) {${AT}\n\n  public String name() {\n    return "s";\n  }\n}\n`],
      ['csharp', `class Shape\n{\n    public double Area(double scale)\n    {${AT}\n\n    public string Name() => "s";\n}\n`],
      ['cpp', `template <typename T>\nconstexpr T\nclamp(T v, T lo, T hi)\n{${AT}\n\nint main() { return 0; }\n`],
      ['go', `package shapes\n\nfunc Area(r float64) float64 {${AT}\n\nfunc Name() string {\n\treturn "s"\n}\n`],
      ['rust', `pub fn area<T>(r: T) -> f64\nwhere\n    T: Into<f64>,\n{${AT}\n\nfn main() {}\n`],
      ['ruby', `class Shape\n  def area(scale = 1)${AT}\n\n  def name\n    "s"\n  end\nend\n`],
      ['ruby', `class Shape\n  def to_s # :nodoc:${AT}\nend\n`],
      ['php', `<?php\nclass Shape {\n  public function area(float $scale): float\n  {${AT}\n\n  public function name() { return 's'; }\n}\n`],
      ['shellscript', `#!/bin/bash\nusage() {${AT}\n\nmain "$@"\n`],
    ];
    for (const [language, source] of cases) {
      it(`${language}: ${source.split('\n').find((l) => l.includes(AT))?.replace(AT, '').trim()}`, () => expectBody(language, source, /a signature with no body yet/));
    }

    it('below a signature, on a blank line, also asks for the body', () =>
      expectBody('go', `package shapes\n\nfunc Area(r float64) float64 {\n\t${AT}\n\nfunc Name() string {\n\treturn "s"\n}\n`, /a signature with no body yet/));

    it('a syntax error elsewhere does not hide it: the request is about the function being written', () =>
      expectBody('typescript', `const x = (1 + ;\n\nexport function area(r: number): number {${AT}\n`, /a signature with no body yet/));

    it('an if that opens its block is not called a signature', async () => {
      const result = await classify('javascript', `function run(x) {\n  if (x > 1) {${AT}\n}\n`, 'auto');
      assert.doesNotMatch(result.reason, /signature/, result.reason);
    });

    it('a signature with its body written below is not bare', async () => {
      const result = await classify('typescript', `function area(r: number): number {${AT}\n  return Math.PI * r * r;\n}\n`, 'auto');
      assert.equal(result.features.unfinished, undefined, result.reason);
    });

    it('a call cut short inside a function is a line to complete, not a method signature', async () => {
      for (const [language, source] of [
        ['typescript', `function run() {\n  setup(a, b)${AT}\n  teardown();\n}\n`],
        ['cpp', `void run() {\n  setup(a, b)${AT}\n  teardown();\n}\n`],
      ]) {
        const result = await classify(language, source, 'inline');
        assert.equal(result.task, 'complete-line', `${language}: ${result.reason}`);
      }
    });
  });
});

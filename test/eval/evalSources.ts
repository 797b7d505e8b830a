import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../host/testResults';
import { pythonStdlib } from '../support/realSources';

/**
 * Where the evaluation's real code comes from: source packages that ship with npm and Debian
 * packages on this machine, one language each. Some packages are held out: no rule, threshold or
 * model may be tuned by looking at their cases, and their figures are reported on their own (the
 * eval hides their mistakes unless asked). `test/eval/install-sources.sh` installs the Debian
 * packages and fetches the npm tarballs; a package whose files are missing is reported and skipped.
 */
export interface SourcePackage {
  language: string;
  /** A name a reader can find on this machine: the npm or Debian package, and the part of it used. */
  name: string;
  heldOut: boolean;
  files: () => string[];
}

const CACHE = path.join(process.env.CODEROUTE_TEST_CACHE ?? path.join(os.homedir(), '.cache', 'coderoute'), 'eval-sources');

export function walk(dir: string, accept: (file: string) => boolean, recursive = true, limit = 400): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const visit = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (out.length >= limit) return;
      const full = path.join(d, name);
      const stat = statSync(full);
      if (stat.isDirectory()) {
        if (recursive) visit(full);
      } else if (accept(full) && stat.size > 500 && stat.size < 400_000) out.push(full);
    }
  };
  visit(dir);
  return out;
}

const under = (dirs: string[], accept: (file: string) => boolean, recursive = true) => () => dirs.flatMap((d) => walk(d, accept, recursive));
const ext = (...exts: string[]) => (f: string) => exts.some((e) => f.endsWith(e)) && !/[/.]test|_test\.|\/tests?\//.test(f);

/** A package of the JDK's source archive, unpacked once into the cache. */
function jdkPackage(pkg: string): () => string[] {
  return () => {
    const jvm = '/usr/lib/jvm';
    if (!existsSync(jvm)) return [];
    const zip = readdirSync(jvm)
      .sort()
      .map((d) => path.join(jvm, d, 'lib', 'src.zip'))
      .find((z) => existsSync(z));
    if (!zip) return [];
    const dest = path.join(CACHE, 'jdk');
    const dir = path.join(dest, 'java.base', ...pkg.split('.'));
    if (!existsSync(dir)) {
      mkdirSync(dest, { recursive: true });
      execFileSync('unzip', ['-q', '-o', zip, `java.base/${pkg.replace(/\./g, '/')}/*`, '-d', dest]);
    }
    return walk(dir, ext('.java'));
  };
}

/** An npm package's files, from the tarball `install-sources.sh` fetched into the cache. */
function npmPackage(folder: string, sub: string, accept: (f: string) => boolean): () => string[] {
  return () => walk(path.join(CACHE, 'npm', folder, 'package', sub), accept);
}

/** Shell scripts installed as commands by Debian packages (not bash-completion's). */
function installedShellScripts(): string[] {
  const out: string[] = [];
  for (const dir of ['/usr/bin', '/usr/sbin']) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      try {
        const stat = statSync(full);
        if (!stat.isFile() || stat.size < 500 || stat.size > 200_000) continue;
        const head = readFileSync(full, { encoding: 'latin1' }).slice(0, 40);
        if (/^#!\s*\/(usr\/)?bin\/(env )?(ba)?sh\b/.test(head)) out.push(full);
      } catch {
        // unreadable: not ours to judge
      }
    }
  }
  return out;
}

const nm = (p: string) => path.join(REPO_ROOT, 'node_modules', p);
const py = pythonStdlib();
const GO = '/usr/share/go-1.19/src';
const CARGO = '/usr/share/cargo/registry';
const crates = (...names: string[]) => () =>
  existsSync(CARGO)
    ? readdirSync(CARGO)
        .filter((d) => names.some((n) => d.startsWith(`${n}-`) && /^\d/.test(d.slice(n.length + 1))))
        .flatMap((d) => walk(path.join(CARGO, d, 'src'), ext('.rs')))
    : [];

export const SOURCE_PACKAGES: SourcePackage[] = [
  { language: 'typescript', name: 'npm openai (src)', heldOut: false, files: under([nm('openai/src')], ext('.ts')) },
  { language: 'typescript', name: 'npm zod (src)', heldOut: true, files: under([nm('zod/src')], (f) => ext('.ts')(f) && !f.endsWith('.d.ts')) },
  { language: 'typescriptreact', name: 'npm @tanstack/react-router (src)', heldOut: false, files: npmPackage('tanstack-react-router', 'src', ext('.tsx')) },
  { language: 'typescriptreact', name: 'npm @tanstack/react-query (src)', heldOut: true, files: npmPackage('tanstack-react-query', 'src', ext('.tsx')) },
  { language: 'javascript', name: 'npm eslint (lib)', heldOut: false, files: under([nm('eslint/lib')], ext('.js')) },
  { language: 'javascript', name: 'npm mocha (lib)', heldOut: true, files: under([nm('mocha/lib')], ext('.js')) },
  { language: 'python', name: 'CPython stdlib (top-level modules)', heldOut: false, files: under([py], ext('.py'), false) },
  { language: 'python', name: 'pip (its vendored packages)', heldOut: true, files: under([path.join(py, 'site-packages', 'pip', '_vendor')], ext('.py')) },
  { language: 'java', name: 'JDK java.util', heldOut: false, files: jdkPackage('java.util') },
  { language: 'java', name: 'JDK java.time', heldOut: true, files: jdkPackage('java.time') },
  { language: 'cpp', name: 'libstdc++ 12 (bits)', heldOut: false, files: under(['/usr/include/c++/12/bits'], ext('.h', '.tcc')) },
  { language: 'cpp', name: 'Debian googletest (src)', heldOut: true, files: under(['/usr/src/googletest/googletest/src', '/usr/src/googletest/googlemock/src'], ext('.cc', '.h')) },
  { language: 'c', name: 'npm web-tree-sitter (lib, the tree-sitter runtime)', heldOut: false, files: under([nm('web-tree-sitter/lib')], ext('.c')) },
  { language: 'c', name: 'perl 5.36 CORE headers and nettle examples', heldOut: true, files: under(['/usr/lib/x86_64-linux-gnu/perl/5.36.0/CORE', '/usr/share/doc/nettle-dev/examples'], ext('.h', '.c')) },
  { language: 'csharp', name: 'npm edge-js (C# sources)', heldOut: true, files: npmPackage('edge-js', '', ext('.cs')) },
  { language: 'go', name: 'Go 1.19 stdlib (net, os, strings, fmt, bufio)', heldOut: false, files: under(['net', 'os', 'strings', 'fmt', 'bufio'].map((d) => path.join(GO, d)), ext('.go')) },
  { language: 'go', name: 'Go 1.19 stdlib (encoding, archive, text)', heldOut: true, files: under(['encoding', 'archive', 'text'].map((d) => path.join(GO, d)), ext('.go')) },
  { language: 'rust', name: 'Debian crates regex, serde, tokio', heldOut: false, files: crates('regex', 'serde', 'tokio') },
  { language: 'rust', name: 'Debian crates clap, syn, rayon, indexmap', heldOut: true, files: crates('clap', 'syn', 'rayon', 'indexmap') },
  { language: 'ruby', name: 'Ruby 3.1 stdlib (without rubygems, bundler)', heldOut: false, files: () => walk('/usr/lib/ruby/3.1.0', (f) => ext('.rb')(f) && !/\/(rubygems|bundler)\//.test(f)) },
  { language: 'ruby', name: 'Ruby 3.1 rubygems and bundler', heldOut: true, files: under(['/usr/lib/ruby/3.1.0/rubygems', '/usr/lib/ruby/3.1.0/bundler'], ext('.rb')) },
  { language: 'php', name: 'Debian php-symfony-console', heldOut: false, files: under(['/usr/share/php/Symfony/Component/Console'], ext('.php')) },
  { language: 'php', name: 'Debian php-league-commonmark, php-guzzlehttp-psr7', heldOut: true, files: under(['/usr/share/php/League/CommonMark', '/usr/share/php/GuzzleHttp'], ext('.php')) },
  { language: 'shellscript', name: 'bash-completion', heldOut: false, files: under(['/usr/share/bash-completion/completions'], () => true) },
  { language: 'shellscript', name: 'shell scripts installed in /usr/bin and /usr/sbin', heldOut: true, files: installedShellScripts },
];

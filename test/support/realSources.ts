import { execFileSync } from 'node:child_process';

/** A seeded generator (mulberry32): the same seed gives the same cases and positions on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Where this machine's Python keeps its standard library (real code nobody here wrote). */
export function pythonStdlib(): string {
  try {
    return execFileSync('python3', ['-c', "import sysconfig;print(sysconfig.get_paths()['stdlib'])"], { encoding: 'utf8' }).trim();
  } catch {
    return '/usr/lib/python3.11';
  }
}

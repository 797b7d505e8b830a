import picomatch from 'picomatch';

/**
 * Workspace-relative path globs (`src/billing/**`, `*.env`, `secrets/**`), as settings and the
 * repository policy write them. Matching is done by picomatch (the matcher behind most Node
 * tooling), with dotfiles included: a privacy rule must not miss `.env`.
 */
const compiled = new Map<string, (path: string) => boolean>();

function matcher(glob: string): (path: string) => boolean {
  let match = compiled.get(glob);
  if (!match) {
    // A glob without a slash matches at any depth, as in .gitignore: `*.pem` covers `keys/a.pem`.
    const pattern = glob.includes('/') ? glob.replace(/^\.?\//, '') : `**/${glob}`;
    match = picomatch(pattern, { dot: true, nocase: process.platform === 'win32' });
    if (compiled.size > 2000) compiled.clear();
    compiled.set(glob, match);
  }
  return match;
}

/** The first glob that matches the path (workspace-relative, `/`-separated), or undefined. */
export function firstMatch(path: string, globs: readonly string[]): string | undefined {
  const normalized = path.replace(/\\/g, '/').replace(/^\.?\//, '');
  return globs.find((glob) => matcher(glob)(normalized));
}

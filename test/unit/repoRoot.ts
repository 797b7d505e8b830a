import * as path from 'node:path';

/** The repository root, from a test compiled to out/test/unit/. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

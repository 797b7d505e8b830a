import { runAddProviderUi } from './addProviderUi';
import { ensureHost, selectedHosts } from './codeServer';

/**
 * The Add Provider UI test on its own (`node out/test/host/addProviderUiAlone.js --current`),
 * while working on it; `npm run test:ui` runs it with the others from paletteUi.
 */
void (async () => {
  let failed = 0;
  for (const spec of selectedHosts()) {
    const host = ensureHost(spec);
    console.log(`[ui] ${host.label}`);
    if (!(await runAddProviderUi(host))) failed++;
  }
  console.log(`ui (add provider): ${failed === 0 ? 'passed' : `${failed} host(s) failed`}`);
  process.exit(failed === 0 ? 0 : 1);
})();

import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { requestsPanelPage } from '../../src/webview/requestsPanel/page';
import type { AttemptRow } from '../../src/webview/protocol';
import { launchChromium } from '../host/browser';
import { REPO_ROOT } from '../host/testResults';

/**
 * The requests panel in real Chromium: the page the extension serves (same HTML, CSP, bundled
 * script and stylesheet), with `acquireVsCodeApi` standing in for the webview host.
 */

const ARTIFACTS = path.join(REPO_ROOT, 'out', 'test', 'e2e', 'artifacts');

const row = (overrides: Partial<AttemptRow>): AttemptRow => ({
  requestId: 'r1',
  task: 'explain',
  modelId: 'gpt-4.1-mini',
  providerId: 'openai',
  status: 'ok',
  inputTokens: 812,
  outputTokens: 164,
  usageEstimated: false,
  latencyMs: 1234,
  finishedAt: Date.UTC(2026, 10, 28, 9, 30),
  ...overrides,
});

describe('requests panel in Chromium', () => {
  let server: http.Server;
  let browser: Browser;
  let page: Page;
  let origin: string;

  before(async () => {
    server = http.createServer((req, res) => {
      const files: Record<string, [string, string]> = {
        '/requestsPanel.js': [path.join(REPO_ROOT, 'dist', 'webview', 'requestsPanel.js'), 'text/javascript'],
        '/requestsPanel.css': [path.join(REPO_ROOT, 'media', 'requestsPanel.css'), 'text/css'],
      };
      if (req.url === '/') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(
          requestsPanelPage({
            cspSource: origin,
            nonce: randomBytes(16).toString('base64'),
            scriptUri: `${origin}/requestsPanel.js`,
            styleUri: `${origin}/requestsPanel.css`,
          }),
        );
        return;
      }
      const file = files[req.url ?? ''];
      if (!file) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': file[1] });
      res.end(readFileSync(file[0]));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 900, height: 400 } });
    await page.addInitScript(() => {
      const w = window as unknown as { posted: unknown[]; acquireVsCodeApi: () => unknown };
      w.posted = [];
      w.acquireVsCodeApi = () => ({ postMessage: (m: unknown) => w.posted.push(m) });
    });
    await page.goto(`${origin}/`);
  });

  afterEach(() => page.close());

  after(async () => {
    await browser.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const posted = () => page.evaluate(() => (window as unknown as { posted: unknown[] }).posted);
  const send = (message: unknown) => page.evaluate((m) => window.postMessage(m, '*'), message);

  it('says it is ready, then shows the rows the host sends', async () => {
    await page.waitForFunction(() => (window as unknown as { posted: unknown[] }).posted.length > 0);
    assert.deepEqual(await posted(), [{ type: 'ready' }]);
    assert.equal(await page.isVisible('#empty'), true);

    await send({
      type: 'attempts',
      attempts: [row({}), row({ requestId: 'r2', status: 'error', errorKind: 'auth', modelId: 'gpt-4.1', outputTokens: 0 })],
    });
    await page.waitForSelector('#rows tr');
    const cells = await page.$$eval('#rows tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    assert.equal(cells.length, 2);
    assert.deepEqual(cells[0].slice(1), ['explain', 'gpt-4.1-mini · openai', '812 / 164', '1.23 s', 'ok']);
    assert.equal(cells[1][5], 'error (auth)');
    assert.equal(await page.isVisible('#empty'), false);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'requests-panel.png') });
  });

  it('shows text from the host as text, never as HTML', async () => {
    await send({ type: 'attempts', attempts: [row({ modelId: '<img src=x onerror="window.pwned=1">' })] });
    await page.waitForSelector('#rows tr');
    assert.equal(await page.$$eval('#rows img', (imgs) => imgs.length), 0);
    assert.match((await page.textContent('#rows td:nth-child(3)')) ?? '', /^<img src=x onerror="window.pwned=1"> · openai$/);
    assert.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined);
  });

  it('ignores messages that do not match the protocol', async () => {
    await send({ type: 'attempts', attempts: [row({})] });
    await page.waitForSelector('#rows tr');
    await send({ type: 'attempts', attempts: [{ requestId: 'broken' }] });
    await send({ type: 'somethingElse' });
    await page.waitForTimeout(100);
    assert.equal(await page.$$eval('#rows tr', (trs) => trs.length), 1);
  });

  it('asks the host to open the log', async () => {
    await page.click('#open-log');
    assert.deepEqual((await posted()).at(-1), { type: 'openLog' });
  });

  it('runs no inline script (CSP)', async () => {
    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.inlineRan = true';
      document.body.appendChild(script);
    });
    assert.equal(await page.evaluate(() => (window as unknown as { inlineRan?: boolean }).inlineRan), undefined);
  });
});

// Entry point loaded by the extension host through `extensionTestsPath` (code-server via
// test/host/runIntegration.mjs, or desktop VS Code via test/host/runElectron.mjs).
// It runs every `*.test.js` next to it (one bundle per test/integration/*.test.ts, built
// by test/host/buildTests.mjs). To add tests, add a file `test/integration/<name>.test.ts`.
//
// Results go to the console (the launcher relays it) AND to files the launcher reads, since
// console output of the extension host is not reliably visible from outside:
//   $ORCHARD_TEST_RESULTS_DIR/integration.log   (live, one line per event)
//   $ORCHARD_TEST_RESULTS_DIR/integration.json  (summary at the end)
// Env: ORCHARD_TEST_GREP narrows the run; ORCHARD_TEST_TIMEOUT sets mocha's per-test timeout.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

interface TestRecord {
  file: string;
  title: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs: number;
  error?: string;
}

export function resultsDir(): string {
  return process.env.ORCHARD_TEST_RESULTS_DIR || path.join(__dirname, 'results');
}

function makeReporter(logFile: string, jsonFile: string) {
  const { EVENT_RUN_BEGIN, EVENT_RUN_END, EVENT_SUITE_BEGIN, EVENT_SUITE_END, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING } = Mocha.Runner.constants;
  return class OrchardReporter {
    constructor(runner: Mocha.Runner) {
      const records: TestRecord[] = [];
      const started = Date.now();
      let depth = 0;
      const out = (line: string) => {
        console.log(line);
        fs.appendFileSync(logFile, line + '\n');
      };
      const fileOf = (t: Mocha.Runnable) => path.basename(t.file ?? '');
      runner.on(EVENT_RUN_BEGIN, () => out(`# integration suite started (${runner.total} tests)`));
      runner.on(EVENT_SUITE_BEGIN, (s: Mocha.Suite) => {
        if (s.title) out(`${'  '.repeat(depth)}${s.title}`);
        depth++;
      });
      runner.on(EVENT_SUITE_END, () => depth--);
      runner.on(EVENT_TEST_PASS, (t: Mocha.Test) => {
        records.push({ file: fileOf(t), title: t.fullTitle(), state: 'passed', durationMs: t.duration ?? 0 });
        out(`${'  '.repeat(depth)}ok ${t.title} (${t.duration ?? 0} ms)`);
      });
      runner.on(EVENT_TEST_PENDING, (t: Mocha.Test) => {
        records.push({ file: fileOf(t), title: t.fullTitle(), state: 'pending', durationMs: 0 });
        out(`${'  '.repeat(depth)}- ${t.title} (pending)`);
      });
      runner.on(EVENT_TEST_FAIL, (t: Mocha.Test, err: Error) => {
        const msg = (err && (err.stack || err.message)) || String(err);
        records.push({ file: fileOf(t), title: t.fullTitle(), state: 'failed', durationMs: t.duration ?? 0, error: msg });
        out(`${'  '.repeat(depth)}FAIL ${t.title}\n${msg.replace(/^/gm, '  '.repeat(depth + 2))}`);
      });
      runner.once(EVENT_RUN_END, () => {
        const passed = records.filter((r) => r.state === 'passed').length;
        const failed = records.filter((r) => r.state === 'failed').length;
        const pending = records.filter((r) => r.state === 'pending').length;
        const durationMs = Date.now() - started;
        out(`# passing ${passed}\n# failing ${failed}\n# pending ${pending}\n# duration ${durationMs} ms`);
        fs.writeFileSync(jsonFile, JSON.stringify({ passed, failed, pending, durationMs, tests: records }, null, 2));
      });
    }
  };
}

export async function run(): Promise<void> {
  const dir = resultsDir();
  fs.mkdirSync(dir, { recursive: true });
  const logFile = path.join(dir, 'integration.log');
  const jsonFile = path.join(dir, 'integration.json');
  fs.rmSync(logFile, { force: true });
  fs.rmSync(jsonFile, { force: true });

  const mocha = new Mocha({
    ui: 'bdd',
    color: false,
    timeout: Number(process.env.ORCHARD_TEST_TIMEOUT) || 240_000,
    slow: 5_000,
  });
  mocha.reporter(makeReporter(logFile, jsonFile) as unknown as typeof Mocha.reporters.Base);
  if (process.env.ORCHARD_TEST_GREP) mocha.grep(process.env.ORCHARD_TEST_GREP);

  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.test.js'))
    .sort()
    .map((f) => path.join(__dirname, f));
  if (files.length === 0) throw new Error(`no *.test.js files in ${__dirname} (run node test/host/buildTests.mjs)`);
  for (const f of files) mocha.addFile(f);

  try {
    await new Promise<void>((resolve, reject) => {
      mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} integration test(s) failed`)) : resolve()));
    });
  } catch (e) {
    // A crash before/while loading files leaves no summary; write one so launchers see it.
    if (!fs.existsSync(jsonFile)) {
      const msg = e instanceof Error ? e.stack || e.message : String(e);
      fs.appendFileSync(logFile, `# suite crashed: ${msg}\n`);
      fs.writeFileSync(jsonFile, JSON.stringify({ passed: 0, failed: 1, pending: 0, crashed: msg, tests: [] }, null, 2));
    }
    throw e;
  }
}

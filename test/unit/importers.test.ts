import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  importTickets,
  importTicketsDetailed,
  orchardImporter,
  workstreamImporter,
  detectImporter,
  ImportError,
  formatImportIssue,
  ticketIdProblem,
  parseEffort,
  findCycles,
  lineColumn,
  IMPORT_LIMITS,
  type ImportIssue,
} from '../../src/core/importers/index';
import { OrchardError } from '../../src/core/errors';

const file = (name: string, doc: unknown) => ({ name, text: typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2) });
const tickets = (...ts: unknown[]) => ({ tickets: ts });

function importError(fn: () => unknown): ImportError {
  try {
    fn();
  } catch (e) {
    assert.ok(ImportError.is(e), `expected ImportError, got ${String(e)}`);
    assert.ok(OrchardError.is(e, 'import-invalid'));
    return e;
  }
  assert.fail('expected an ImportError');
}

describe('orchard ticket file: valid input', () => {
  test('applies defaults', () => {
    const [t, ...rest] = importTickets([file('tickets.json', tickets({ id: 'T1', title: 'Add login' }))]);
    assert.equal(rest.length, 0);
    assert.deepEqual(t, { id: 'T1', title: 'Add login', prompt: 'Add login', priority: 'P2', dependsOn: [], files: [], labels: [] });
  });

  test('keeps every field', () => {
    const spec = {
      id: 'auth-login.v2',
      title: 'Login',
      prompt: 'Do it',
      priority: 'P0',
      dependsOn: ['T0'],
      files: ['./src/auth/**', 'src\\api\\login.ts', 'docs/'],
      labels: ['backend', 'auth'],
      agent: 'claude',
      estimate: 30,
    };
    const out = importTickets([file('t.json', tickets({ id: 'T0', title: 'base' }, spec))]);
    assert.deepEqual(out[1], { ...spec, files: ['src/auth/**', 'src/api/login.ts', 'docs'] });
  });

  test('text with shell metacharacters, quotes, backticks and unicode is kept verbatim', () => {
    const nasty = [
      `$(rm -rf ~) \`whoami\` ; echo "hi" && ls | cat > /dev/null 2>&1 &`,
      `it's "quoted" \\ back\\slash $HOME %PATH% !history {a,b} *glob* ?x [ab]`,
      'ünïcödé — 日本語 🚀 \u202eRTL\u202c',
      "'; DROP TABLE tickets; --",
      'multi\nline\n\tprompt\r\n',
    ];
    const ts = nasty.map((p, i) => ({
      id: `T${i}`,
      title: p.split(/[\r\n]/)[0]!.trim() || 'x',
      prompt: p,
      labels: [p.split('\n')[0]!.slice(0, 50).trim() || 'x'],
    }));
    const out = importTickets([file('t.json', { tickets: ts })]);
    out.forEach((t, i) => {
      assert.equal(t.prompt, nasty[i]);
      assert.equal(t.title, ts[i]!.title);
    });
    // file names with spaces and shell characters are fine as patterns too
    const [f] = importTickets([file('t.json', tickets({ id: 'F', title: 'f', files: ['src/$(x)/a b;c.ts', 'src/`y`/**'] }))]);
    assert.deepEqual(f!.files, ['src/$(x)/a b;c.ts', 'src/`y`/**']);
  });

  test('a bare list of tickets and a BOM are accepted', () => {
    const out = importTickets([{ name: 'list.json', text: '\ufeff' + JSON.stringify([{ id: 'A', title: 'a' }]) }]);
    assert.equal(out[0]!.id, 'A');
  });

  test('dependencies on existing tickets are allowed; reusing their ids is not', () => {
    const out = importTickets([file('t.json', tickets({ id: 'B', title: 'b', dependsOn: ['A'] }))], { existingIds: ['A'] });
    assert.deepEqual(out[0]!.dependsOn, ['A']);
    const e = importError(() => importTickets([file('t.json', tickets({ id: 'A', title: 'a' }))], { existingIds: ['A'] }));
    assert.match(e.issues[0]!.message, /already used by an existing ticket/);
  });

  test('null optional fields are treated as absent; duplicate deps/files/labels are dropped', () => {
    const [t] = importTickets([
      file('t.json', tickets({ id: 'X', title: 't', prompt: null, agent: null, estimate: null, priority: null, files: ['a', 'a', './a'], labels: ['l', 'l'] })),
    ]);
    assert.deepEqual(t, { id: 'X', title: 't', prompt: 't', priority: 'P2', dependsOn: [], files: ['a'], labels: ['l'] });
  });

  test('several files are checked as one graph', () => {
    const out = importTickets([file('a.json', tickets({ id: 'A', title: 'a' })), file('b.json', tickets({ id: 'B', title: 'b', dependsOn: ['A'] }))]);
    assert.deepEqual(
      out.map((t) => t.id),
      ['A', 'B'],
    );
  });
});

// The corpus: each entry is a ticket file with one deliberate mistake; the error must name
// the file, the ticket and the field.
interface Bad {
  what: string;
  doc: unknown;
  ticket?: string; // "T1" or "#2"
  field?: string;
  match: RegExp;
}
const long = (n: number) => 'x'.repeat(n);
const corpus: Bad[] = [
  { what: 'missing id', doc: tickets({ title: 'a' }), ticket: '#1', field: 'id', match: /required/ },
  { what: 'numeric id', doc: tickets({ id: 7, title: 'a' }), ticket: '#1', field: 'id', match: /must be a string/ },
  { what: 'empty id', doc: tickets({ id: '', title: 'a' }), ticket: '#1', field: 'id', match: /empty/ },
  { what: 'id with slash', doc: tickets({ id: 'a/b', title: 'a' }), ticket: 'a/b', field: 'id', match: /path separator/ },
  { what: 'id with ..', doc: tickets({ id: 'a..b', title: 'a' }), ticket: 'a..b', field: 'id', match: /"\.\."/ },
  { what: 'id ending .lock', doc: tickets({ id: 'x.lock', title: 'a' }), ticket: 'x.lock', field: 'id', match: /\.lock/ },
  { what: 'id ending with dot', doc: tickets({ id: 'x.', title: 'a' }), ticket: 'x.', field: 'id', match: /ends with "\."/ },
  { what: 'id starting with dash', doc: tickets({ id: '-rf', title: 'a' }), ticket: '-rf', field: 'id', match: /not a valid ticket id/ },
  { what: 'id with space', doc: tickets({ id: 'T 1', title: 'a' }), ticket: 'T 1', field: 'id', match: /not a valid ticket id/ },
  { what: 'id too long', doc: tickets({ id: 'a'.repeat(65), title: 'a' }), ticket: 'a'.repeat(65), field: 'id', match: /at most 64/ },
  { what: 'Windows device name', doc: tickets({ id: 'CON', title: 'a' }), ticket: 'CON', field: 'id', match: /reserved/ },
  { what: 'missing title', doc: tickets({ id: 'T1' }), ticket: 'T1', field: 'title', match: /required/ },
  { what: 'blank title', doc: tickets({ id: 'T1', title: '   ' }), ticket: 'T1', field: 'title', match: /empty/ },
  { what: 'title too long', doc: tickets({ id: 'T1', title: long(201) }), ticket: 'T1', field: 'title', match: /at most 200/ },
  { what: 'multi-line title', doc: tickets({ id: 'T1', title: 'a\nb' }), ticket: 'T1', field: 'title', match: /one line/ },
  { what: 'title is a list', doc: tickets({ id: 'T1', title: ['a'] }), ticket: 'T1', field: 'title', match: /must be a string \(got a list\)/ },
  { what: 'prompt too long', doc: tickets({ id: 'T1', title: 'a', prompt: long(100_001) }), ticket: 'T1', field: 'prompt', match: /at most 100000/ },
  { what: 'prompt with NUL', doc: tickets({ id: 'T1', title: 'a', prompt: 'a\u0000b' }), ticket: 'T1', field: 'prompt', match: /NUL/ },
  { what: 'prompt is a number', doc: tickets({ id: 'T1', title: 'a', prompt: 5 }), ticket: 'T1', field: 'prompt', match: /must be a string/ },
  { what: 'empty prompt', doc: tickets({ id: 'T1', title: 'a', prompt: '' }), ticket: 'T1', field: 'prompt', match: /empty/ },
  { what: 'bad priority', doc: tickets({ id: 'T1', title: 'a', priority: 'P9' }), ticket: 'T1', field: 'priority', match: /P0, P1, P2, P3/ },
  { what: 'lowercase priority', doc: tickets({ id: 'T1', title: 'a', priority: 'p1' }), ticket: 'T1', field: 'priority', match: /write "P1"/ },
  { what: 'numeric priority', doc: tickets({ id: 'T1', title: 'a', priority: 1 }), ticket: 'T1', field: 'priority', match: /got 1/ },
  { what: 'dependsOn is a string', doc: tickets({ id: 'T1', title: 'a', dependsOn: 'T0' }), ticket: 'T1', field: 'dependsOn', match: /must be a list/ },
  { what: 'dependsOn entry not an id', doc: tickets({ id: 'T1', title: 'a', dependsOn: [3] }), ticket: 'T1', field: 'dependsOn', match: /must be a string/ },
  { what: 'unknown dependency', doc: tickets({ id: 'T1', title: 'a', dependsOn: ['T9'] }), ticket: 'T1', field: 'dependsOn', match: /unknown ticket "T9"/ },
  { what: 'self dependency', doc: tickets({ id: 'T1', title: 'a', dependsOn: ['T1'] }), ticket: 'T1', field: 'dependsOn', match: /depends on itself/ },
  {
    what: 'cycle',
    doc: tickets({ id: 'A', title: 'a', dependsOn: ['C'] }, { id: 'B', title: 'b', dependsOn: ['A'] }, { id: 'C', title: 'c', dependsOn: ['B'] }),
    ticket: 'A',
    field: 'dependsOn',
    match: /cycle: A → C → B → A/,
  },
  {
    what: 'duplicate id',
    doc: tickets({ id: 'T1', title: 'a' }, { id: 'T1', title: 'b' }),
    ticket: 'T1',
    field: 'id',
    match: /duplicate id "T1" \(first used in bad\.json \(ticket #1\)\)/,
  },
  { what: 'ids differing only in case', doc: tickets({ id: 'T1', title: 'a' }, { id: 't1', title: 'b' }), ticket: 't1', field: 'id', match: /only in case/ },
  { what: 'absolute file', doc: tickets({ id: 'T1', title: 'a', files: ['/etc/passwd'] }), ticket: 'T1', field: 'files', match: /absolute/ },
  { what: 'drive letter file', doc: tickets({ id: 'T1', title: 'a', files: ['C:\\x'] }), ticket: 'T1', field: 'files', match: /absolute/ },
  {
    what: 'file leaving the repo',
    doc: tickets({ id: 'T1', title: 'a', files: ['src/../../x'] }),
    ticket: 'T1',
    field: 'files',
    match: /leaves the repository/,
  },
  { what: 'file is the repo root', doc: tickets({ id: 'T1', title: 'a', files: ['./'] }), ticket: 'T1', field: 'files', match: /"\*\*"/ },
  { what: 'file inside .git', doc: tickets({ id: 'T1', title: 'a', files: ['.git/hooks/**'] }), ticket: 'T1', field: 'files', match: /\.git/ },
  { what: 'file looking like an option', doc: tickets({ id: 'T1', title: 'a', files: ['--yes'] }), ticket: 'T1', field: 'files', match: /option/ },
  { what: 'empty file entry', doc: tickets({ id: 'T1', title: 'a', files: [''] }), ticket: 'T1', field: 'files', match: /empty/ },
  { what: 'files is an object', doc: tickets({ id: 'T1', title: 'a', files: { a: 1 } }), ticket: 'T1', field: 'files', match: /must be a list/ },
  {
    what: 'too many files',
    doc: tickets({ id: 'T1', title: 'a', files: Array.from({ length: 1001 }, (_, i) => `f${i}`) }),
    ticket: 'T1',
    field: 'files',
    match: /at most 1000/,
  },
  { what: 'label not a string', doc: tickets({ id: 'T1', title: 'a', labels: [1] }), ticket: 'T1', field: 'labels', match: /strings/ },
  {
    what: 'agent with spaces',
    doc: tickets({ id: 'T1', title: 'a', agent: 'claude --yolo' }),
    ticket: 'T1',
    field: 'agent',
    match: /not an agent profile name/,
  },
  { what: 'zero estimate', doc: tickets({ id: 'T1', title: 'a', estimate: 0 }), ticket: 'T1', field: 'estimate', match: /greater than 0/ },
  { what: 'negative estimate', doc: tickets({ id: 'T1', title: 'a', estimate: -5 }), ticket: 'T1', field: 'estimate', match: /greater than 0/ },
  { what: 'string estimate', doc: tickets({ id: 'T1', title: 'a', estimate: '30' }), ticket: 'T1', field: 'estimate', match: /number of minutes/ },
  { what: 'huge estimate', doc: tickets({ id: 'T1', title: 'a', estimate: 1e9 }), ticket: 'T1', field: 'estimate', match: /30 days/ },
  {
    what: 'typo in a ticket key',
    doc: tickets({ id: 'T1', title: 'a', dependOn: ['T0'] }),
    ticket: 'T1',
    field: 'dependOn',
    match: /did you mean "dependsOn"/,
  },
  {
    what: 'unknown ticket key',
    doc: tickets({ id: 'T1', title: 'a', assignee: 'bob' }),
    ticket: 'T1',
    field: 'assignee',
    match: /unknown ticket field "assignee"/,
  },
  { what: 'ticket is a string', doc: tickets('T1'), ticket: '#1', match: /must be an object/ },
];

describe('orchard ticket file: malformed corpus', () => {
  test('the corpus has at least 30 cases', () => assert.ok(corpus.length >= 30));
  for (const c of corpus) {
    test(c.what, () => {
      const e = importError(() => importTickets([file('bad.json', c.doc)]));
      const wantTicket = c.ticket?.startsWith('#') ? { index: Number(c.ticket.slice(1)) - 1 } : { ticketId: c.ticket };
      const hit = e.issues.find(
        (i: ImportIssue) =>
          i.file === 'bad.json' &&
          i.field === c.field &&
          ('index' in wantTicket ? i.ticketId === undefined && i.index === wantTicket.index : i.ticketId === wantTicket.ticketId) &&
          c.match.test(i.message),
      );
      assert.ok(hit, `no matching issue among:\n${e.message}`);
      const line = formatImportIssue(hit);
      assert.ok(line.startsWith('bad.json: '), line);
      assert.ok(line.includes(`ticket ${c.ticket}`), line);
      if (c.field) assert.ok(line.includes(`field "${c.field}"`), line);
      assert.ok(e.message.includes(line), 'the error message lists the issue');
    });
  }
});

describe('orchard ticket file: whole-file problems', () => {
  test('invalid JSON names line and column', () => {
    const e = importError(() => importTickets([{ name: 'broken.json', text: '{\n  "tickets": [\n    { "id": "A", }\n  ]\n}' }]));
    assert.equal(e.issues.length, 1);
    assert.equal(e.issues[0]!.line, 3);
    assert.equal(e.issues[0]!.column, 18);
    assert.match(e.message, /broken\.json:3:18: is not valid JSON at line 3, column 18/);
  });

  test('truncated JSON points at the end', () => {
    const e = importError(() => importTickets([{ name: 'cut.json', text: '{"tickets": [\n' }]));
    assert.match(e.issues[0]!.message, /line 2, column 1: the file ends too early/);
  });

  test('empty file', () => {
    const e = importError(() => importTickets([{ name: 'empty.json', text: '  \n' }]));
    assert.match(e.message, /empty\.json: is empty/);
  });

  test('unknown top-level key is reported with a suggestion', () => {
    const e = importError(() => importTickets([file('t.json', { tickets: [], tikets: [] })]));
    assert.deepEqual(
      e.issues.map((i) => [i.field, /did you mean "tickets"/.test(i.message)]),
      [['tikets', true]],
    );
  });

  test('tickets is not a list', () => {
    const e = importError(() => importTickets([file('t.json', { tickets: { id: 'A' } })]));
    assert.equal(e.issues[0]!.field, 'tickets');
    assert.match(e.issues[0]!.message, /must be a list/);
  });

  test('unrecognised format', () => {
    const e = importError(() => importTickets([file('notes.json', { hello: 'world' })]));
    assert.match(e.message, /notes\.json: is not a format Orchard can import/);
  });

  test('no files, and the same file twice', () => {
    importError(() => importTickets([]));
    const e = importError(() => importTickets([file('a.json', tickets({ id: 'A', title: 'a' })), file('a.json', tickets({ id: 'A', title: 'a' }))]));
    assert.match(e.message, /a\.json: was given twice/);
  });

  test('more than 5000 tickets', () => {
    const many = Array.from({ length: IMPORT_LIMITS.maxTickets + 1 }, (_, i) => ({ id: `T${i}`, title: 't' }));
    const e = importError(() => importTickets([file('big.json', { tickets: many })]));
    assert.match(e.message, /too many tickets/);
    // exactly the limit is fine
    assert.equal(importTickets([file('ok.json', { tickets: many.slice(1) })]).length, IMPORT_LIMITS.maxTickets);
  });

  test('all problems are reported together, nothing is returned', () => {
    const e = importError(() =>
      importTickets([
        file('a.json', tickets({ id: 'A', title: 'a', priority: 'high' }, { id: 'B', title: '', dependsOn: ['A', 'Z'] })),
        file('b.json', tickets({ id: 'A', title: 'again' }, { id: 'C', title: 'c', estimate: -1, colour: 'red' })),
        { name: 'c.json', text: '{' },
      ]),
    );
    const keys = e.issues.map((i) => `${i.file}|${i.ticketId ?? ''}|${i.field ?? ''}`).sort();
    assert.deepEqual(
      keys,
      ['a.json|A|priority', 'a.json|B|dependsOn', 'a.json|B|title', 'b.json|A|id', 'b.json|C|colour', 'b.json|C|estimate', 'c.json||'].sort(),
    );
    assert.match(e.message, /^Nothing was imported: 7 problems found/);
  });

  test('a bad ticket still takes part in the graph checks, without spurious unknown-dependency noise', () => {
    const e = importError(() =>
      importTickets([
        file(
          't.json',
          tickets(
            { id: 'A', title: 'a', priority: 'x', dependsOn: ['B'] },
            { id: 'B', title: 'b', dependsOn: ['A'] },
            { id: 'C', title: 'c', dependsOn: ['A'] },
          ),
        ),
      ]),
    );
    assert.ok(e.issues.some((i) => /cycle: A → B → A/.test(i.message)));
    assert.ok(!e.issues.some((i) => /unknown ticket/.test(i.message)));
  });

  test('the error message lists at most 50 issues', () => {
    const many = Array.from({ length: 60 }, (_, i) => ({ id: `T${i}`, title: 't', priority: 'bad' }));
    const e = importError(() => importTickets([file('t.json', { tickets: many })]));
    assert.equal(e.issues.length, 60);
    assert.match(e.message, /… and 10 more/);
  });
});

describe('ticket ids', () => {
  test('good ids', () => {
    for (const id of ['T1', 'a', 'auth-login', 'v1.2_x', '0', 'A'.repeat(64), 'lock', 'x.locks']) assert.equal(ticketIdProblem(id), undefined, id);
  });
  test('bad ids', () => {
    for (const id of [
      '',
      '.x',
      '_x',
      'a/b',
      'a\\b',
      'a..b',
      'a.',
      'a.lock',
      'A.LOCK',
      'a b',
      'a@{b',
      'a~1',
      'a^',
      'a:b',
      'nul',
      'COM1',
      'lpt9.txt',
      'é',
      'A'.repeat(65),
      5,
      null,
    ])
      assert.ok(ticketIdProblem(id), String(id));
  });
});

describe('graph', () => {
  test('findCycles reports one cycle per strongly connected component, starting at the smallest id', () => {
    const n = (deps: Record<string, string[]>) => new Map(Object.entries(deps).map(([k, v]) => [k, { spec: { dependsOn: v } }]));
    assert.deepEqual(findCycles(n({ a: ['b'], b: ['c'], c: [] })), []);
    assert.deepEqual(findCycles(n({ b: ['a'], a: ['b'] })), [['a', 'b']]);
    assert.deepEqual(findCycles(n({ a: ['b'], b: ['c'], c: ['a', 'b'], x: ['y'], y: ['x'] })), [
      ['a', 'b', 'c'],
      ['x', 'y'],
    ]);
  });

  test('a 5000-long chain does not overflow', () => {
    const ts = Array.from({ length: 5000 }, (_, i) => ({ id: `T${i}`, title: 't', dependsOn: i ? [`T${i - 1}`] : ['T4999'] }));
    const e = importError(() => importTickets([file('chain.json', { tickets: ts })]));
    assert.equal(e.issues.length, 1);
    assert.match(e.issues[0]!.message, /cycle: T0 → T4999 → T4998/);
  });
});

describe('workstream files', () => {
  const ws = (id: string, extra: Record<string, unknown> = {}) =>
    file(`${id}.json`, { id, depends_on: [], files_scope: [], tasks: [], tool: 'aider', ...extra });

  test('maps a workstream to a ticket', () => {
    const out = importTickets([
      ws('ws-03', { name: 'Core refactor', files_scope: ['src/core/**'], tasks: ['Split the module'], effort: 2, priority: 'critical' }),
      ws('ws-07', {
        title: 'Section refactor',
        description: 'Refactor the section renderer.',
        depends_on: ['ws-03'],
        files_scope: ['src/sections/**', './src/render.ts'],
        tasks: [
          'Extract `render()` into its own file',
          { id: 't2', title: 'Tests', description: 'Add tests for "$(edge)" cases', acceptance: ['green CI'] },
          { task: 'Old step', done: true },
        ],
        tool: 'codex',
        effort: '90m',
        priority: 'high',
        track: 'core_refactor',
        owner: 'someone', // free-form metadata is ignored
      }),
    ]);
    assert.deepEqual(out[0], {
      id: 'ws-03',
      title: 'Core refactor',
      prompt: 'Workstream ws-03: Core refactor\n\nTasks:\n1. Split the module',
      priority: 'P0',
      dependsOn: [],
      files: ['src/core/**'],
      labels: [],
      agent: 'aider',
      estimate: 120,
    });
    assert.deepEqual(out[1], {
      id: 'ws-07',
      title: 'Section refactor',
      prompt:
        'Workstream ws-07: Section refactor\n\nRefactor the section renderer.\n\nTasks:\n1. Extract `render()` into its own file\n2. [t2] Tests: Add tests for "$(edge)" cases\n   Acceptance: green CI\n3. Old step (already done; verify only)',
      priority: 'P1',
      dependsOn: ['ws-03'],
      files: ['src/sections/**', 'src/render.ts'],
      labels: ['core_refactor'],
      agent: 'codex',
      estimate: 90,
    });
  });

  test('minimal workstream: title and prompt default to the id, priority P2', () => {
    const [t] = importTickets([file('ws-01.json', { id: 'ws-01' })]);
    assert.deepEqual(t, { id: 'ws-01', title: 'ws-01', prompt: 'ws-01', priority: 'P2', dependsOn: [], files: [], labels: [] });
  });

  test('a list of workstreams in one file, and { workstreams: [...] }', () => {
    const out = importTicketsDetailed([
      file('plan.json', [
        { id: 'ws-1', tasks: ['a'] },
        { id: 'ws-2', depends_on: ['ws-1'], tasks: ['b'] },
      ]),
      file('more.json', { workstreams: [{ id: 'ws-3', depends_on: ['ws-2'], tasks: ['c'] }] }),
    ]);
    assert.deepEqual(
      out.tickets.map((t) => t.id),
      ['ws-1', 'ws-2', 'ws-3'],
    );
    assert.deepEqual(out.formats, { 'plan.json': 'workstreams', 'more.json': 'workstreams' });
  });

  test('effort parsing', () => {
    assert.deepEqual(parseEffort(2, 'h'), { minutes: 120 });
    assert.deepEqual(parseEffort(45, 'm'), { minutes: 45 });
    assert.deepEqual(parseEffort('1.5 hours', 'm'), { minutes: 90 });
    assert.deepEqual(parseEffort('2-3h', 'm'), { minutes: 180 });
    assert.deepEqual(parseEffort('1d', 'h'), { minutes: 480 });
    assert.deepEqual(parseEffort('3', 'h'), { minutes: 180 });
    assert.ok('problem' in parseEffort('a while', 'h'));
    assert.ok('problem' in parseEffort('3 fortnights', 'h'));
    assert.ok('problem' in parseEffort(0, 'h'));
  });

  const badWs: { what: string; name: string; doc: unknown; ticket: string; field: string; match: RegExp }[] = [
    { what: 'missing id', name: 'ws-07.json', doc: { tasks: ['a'] }, ticket: '#1', field: 'id', match: /required; use the workstream's id, e.g. "ws-07"/ },
    {
      what: 'depends_on not a list',
      name: 'ws-07.json',
      doc: { id: 'ws-07', depends_on: 'ws-03' },
      ticket: 'ws-07',
      field: 'depends_on',
      match: /must be a list/,
    },
    {
      what: 'unknown dependency',
      name: 'ws-07.json',
      doc: { id: 'ws-07', depends_on: ['ws-99'] },
      ticket: 'ws-07',
      field: 'depends_on',
      match: /unknown ticket "ws-99"/,
    },
    { what: 'files_scope absolute', name: 'ws-07.json', doc: { id: 'ws-07', files_scope: ['/abs'] }, ticket: 'ws-07', field: 'files_scope', match: /absolute/ },
    { what: 'tasks not a list', name: 'ws-07.json', doc: { id: 'ws-07', tasks: 'do it' }, ticket: 'ws-07', field: 'tasks', match: /must be a list/ },
    {
      what: 'task without text',
      name: 'ws-07.json',
      doc: { id: 'ws-07', tasks: ['ok', { owner: 'x' }] },
      ticket: 'ws-07',
      field: 'tasks',
      match: /task 2 has no text/,
    },
    {
      what: 'task is a number',
      name: 'ws-07.json',
      doc: { id: 'ws-07', tasks: [42] },
      ticket: 'ws-07',
      field: 'tasks',
      match: /task 1 must be a string or an object/,
    },
    {
      what: 'tool with shell',
      name: 'ws-07.json',
      doc: { id: 'ws-07', tool: 'aider; rm -rf /' },
      ticket: 'ws-07',
      field: 'tool',
      match: /not an agent profile name/,
    },
    {
      what: 'bad priority',
      name: 'ws-07.json',
      doc: { id: 'ws-07', priority: 'whenever' },
      ticket: 'ws-07',
      field: 'priority',
      match: /critical, high, medium or low/,
    },
    { what: 'bad effort', name: 'ws-07.json', doc: { id: 'ws-07', effort: 'soon' }, ticket: 'ws-07', field: 'effort', match: /not a duration/ },
    {
      what: 'camelCase dependsOn typo',
      name: 'ws-07.json',
      doc: { id: 'ws-07', dependsOn: ['ws-01'] },
      ticket: 'ws-07',
      field: 'dependsOn',
      match: /did you mean "depends_on"/,
    },
    {
      what: 'file_scope typo',
      name: 'ws-07.json',
      doc: { id: 'ws-07', file_scope: ['a'] },
      ticket: 'ws-07',
      field: 'file_scope',
      match: /did you mean "files_scope"/,
    },
    { what: 'bad id', name: 'ws-07.json', doc: { id: 'ws/07', tasks: [] }, ticket: 'ws/07', field: 'id', match: /path separator/ },
    { what: 'name too long', name: 'ws-07.json', doc: { id: 'ws-07', name: long(300) }, ticket: 'ws-07', field: 'name', match: /at most 200/ },
    {
      what: 'self dependency',
      name: 'ws-07.json',
      doc: { id: 'ws-07', depends_on: ['ws-07'] },
      ticket: 'ws-07',
      field: 'depends_on',
      match: /depends on itself/,
    },
  ];
  for (const c of badWs) {
    test(`malformed workstream: ${c.what}`, () => {
      const e = importError(() => importTickets([file(c.name, c.doc)]));
      const hit = e.issues.find((i) => i.file === c.name && i.field === c.field && c.match.test(i.message));
      assert.ok(hit, e.message);
      const line = formatImportIssue(hit);
      assert.ok(line.startsWith(`${c.name}: ticket ${c.ticket}, field "${c.field}": `), line);
    });
  }

  test('cycle across workstream files', () => {
    const e = importError(() => importTickets([ws('ws-01', { depends_on: ['ws-02'] }), ws('ws-02', { depends_on: ['ws-01'] })]));
    assert.equal(e.issues.length, 1);
    assert.match(formatImportIssue(e.issues[0]!), /^ws-01\.json: ticket ws-01, field "depends_on": dependency cycle: ws-01 → ws-02 → ws-01/);
  });

  test('workstream dependencies may name existing tickets', () => {
    const [t] = importTickets([ws('ws-02', { depends_on: ['ws-01'] })], { existingIds: new Set(['ws-01']) });
    assert.deepEqual(t!.dependsOn, ['ws-01']);
  });
});

describe('importer selection', () => {
  test('canImport', () => {
    assert.equal(orchardImporter.canImport('x.json', { tickets: [] }), true);
    assert.equal(orchardImporter.canImport('x.json', { id: 'ws-1' }), false);
    assert.equal(workstreamImporter.canImport('dir/ws-07.json', {}), true);
    assert.equal(workstreamImporter.canImport('x.json', { id: 'a', depends_on: [] }), true);
    assert.equal(workstreamImporter.canImport('x.json', { tickets: [] }), false);
    assert.equal(detectImporter('ws-1.json', { tickets: [] })?.name, 'orchard');
    assert.equal(detectImporter('x.json', { foo: 1 }), undefined);
  });

  test('mixed formats import together and share one graph', () => {
    const r = importTicketsDetailed([
      file('tickets.json', tickets({ id: 'T1', title: 't', dependsOn: ['ws-01'] })),
      file('ws-01.json', { id: 'ws-01', tasks: ['x'] }),
    ]);
    assert.deepEqual(r.formats, { 'tickets.json': 'orchard', 'ws-01.json': 'workstreams' });
    assert.deepEqual(r.tickets.map((t) => t.id).sort(), ['T1', 'ws-01']);
  });

  test('each importer can be used directly and is all-or-nothing', () => {
    assert.equal(orchardImporter.import([file('t.json', tickets({ id: 'A', title: 'a' }))]).length, 1);
    importError(() => workstreamImporter.import([file('ws-1.json', { id: 'ws-1', depends_on: ['nope'] })]));
  });

  test('lineColumn', () => {
    assert.deepEqual(lineColumn('ab\ncd', 0), { line: 1, column: 1 });
    assert.deepEqual(lineColumn('ab\ncd', 4), { line: 2, column: 2 });
    assert.deepEqual(lineColumn('ab', 99), { line: 1, column: 3 });
  });
});

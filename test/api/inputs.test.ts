// Inputs that used to make 5xx or leak (issue 9 items 14, 15, 16): deeply nested bodies, credentials shown by
// GET /api/pipelines/{id}, and trigger headers that could only fail at fire time — on a real listening server and
// through the built CLI.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in trigger specs are the subject under test.
import { describe, expect, it } from 'vitest';
import { makeProject } from '../support/api-project.js';
import { expectErrorShape, useServers } from '../support/api-server.js';
import { writeFiles } from '../support/files.js';
import { api, raw } from '../support/http-request.js';
import { cli } from '../support/run-cli.js';

const { dir, start } = useServers('interlock-api-inputs-');

/** `d` levels of objects: nest(1) = {}, nest(2) = {"x":{}}. Built as text (JSON.stringify recurses). */
const nest = (d: number) => `${'{"x":'.repeat(d - 1)}{}${'}'.repeat(d - 1)}`;

/** A registration whose whole body is `depth` levels deep (body → traits → a → config → …). */
const registration = (depth: number) =>
  `{"name":"deep","archetype":"gate","traits":{"a":{"evaluator":"pass","config":${nest(depth - 3)}}}}`;

const post = (base: string, path: string, body: string) =>
  raw(base, { method: 'POST', path, headers: { 'content-type': 'application/json' }, body });

describe('item 14: bodies nested deeper than 64 levels → 400 INVALID_REQUEST', () => {
  it('registration config at 65, 4110 and 4500 levels → 400; 64 levels is accepted', async () => {
    const s = await start(makeProject(dir()));
    for (const depth of [65, 4110, 4500]) {
      const r = await post(s.url, '/api/pipelines', registration(depth));
      expect(r.status, `${depth} levels`).toBe(400);
      expectErrorShape(r);
      expect(r.body.error).toEqual({ code: 'INVALID_REQUEST', message: 'request body nests deeper than 64 levels' });
    }
    expect((await api(s.url, 'GET', '/api/pipelines/deep')).status).toBe(404);
    const ok = await post(s.url, '/api/pipelines', registration(64));
    expect(ok.status).toBe(201);
    // Brackets inside strings are not nesting.
    const strings = await post(s.url, '/api/pipelines', registration(10).replace('{}', `{"s":"${'['.repeat(500)}"}`));
    expect(strings.status).toBe(409); // same name, different definition: judged on its content, not refused as deep
  });

  it('completion metadata and a cancel body at 65, 4110 and 4500 levels → 400, the run untouched', async () => {
    const s = await start(makeProject(dir()));
    for (const depth of [65, 4110, 4500]) {
      const complete = await post(
        s.url,
        '/api/runs/01NOPE/complete',
        `{"status":"success","metadata":${nest(depth - 1)}}`,
      );
      expect(complete.status, `complete ${depth}`).toBe(400);
      expect(complete.body.error.code).toBe('INVALID_REQUEST');
      const cancel = await post(s.url, '/api/runs/01NOPE/cancel', `{"reason":${nest(depth - 1)}}`);
      expect(cancel.status, `cancel ${depth}`).toBe(400);
      expect(cancel.body.error.code).toBe('INVALID_REQUEST');
    }
    // 64 levels passes the depth check and reaches the route (unknown run).
    expect((await post(s.url, '/api/runs/01NOPE/complete', `{"status":"success","metadata":${nest(63)}}`)).status).toBe(
      404,
    );
    expect((await api(s.url, 'GET', '/api/health')).status).toBe(200);
  });
});

describe('item 15: GET /api/pipelines/{id} masks credentials in URL query strings and bodies', () => {
  it('literal secrets in the query and body are ***; ${VAR} placeholders and other values stay', async () => {
    const root = makeProject(dir(), {
      files: {
        'pipelines/hook.yaml':
          'name: hook\narchetype: gate\ntraits:\n  a:\n    evaluator: pass\ntrigger:\n  type: http\n' +
          '  url: "https://hooks.example.com/run?dag=d1&token=lit-tok-991&api_key=${KEY}"\n' +
          '  body: \'{"conf":{"password":"hunter2","region":"eu","client_secret":"cs-77"}}\'\n',
      },
    });
    const s = await start(root);
    for (const r of [await api(s.url, 'GET', '/api/pipelines/hook'), await api(s.url, 'GET', '/api/pipelines')]) {
      expect(r.status).toBe(200);
      expect(r.text).not.toContain('lit-tok-991');
      expect(r.text).not.toContain('hunter2');
      expect(r.text).not.toContain('cs-77');
    }
    const one = (await api(s.url, 'GET', '/api/pipelines/hook')).body;
    expect(one.trigger.url).toBe('https://hooks.example.com/run?dag=d1&token=***&api_key=${KEY}');
    expect(JSON.parse(one.trigger.body)).toEqual({
      conf: { password: '***', region: 'eu', client_secret: '***' },
    });
  });
});

describe('item 16: trigger headers are validated before any run exists', () => {
  const BAD: Array<[string, string]> = [
    ['a CRLF in a value', '      X-Note: "a\\r\\nInjected: 1"\n'],
    ['an invalid header name', '      "Bad Header": "x"\n'],
    ['Host', '      Host: "other.example"\n'],
    ['Transfer-Encoding', '      Transfer-Encoding: chunked\n'],
    ['Content-Length', '      Content-Length: "5"\n'],
    ['Connection', '      Connection: close\n'],
  ];
  const triggerWith = (header: string) =>
    `trigger:\n  type: http\n  url: "http://127.0.0.1:9/hook"\n  headers:\n${header}`;

  for (const [what, header] of BAD) {
    it(`YAML with ${what}: validate and run exit 2 (config error), no run recorded`, async () => {
      const root = makeProject(dir(), { trigger: triggerWith(header) });
      const v = await cli(['validate'], { cwd: root });
      expect(v.code, v.stderr + v.stdout).toBe(2);
      expect(v.stderr + v.stdout).toMatch(/trigger\.headers/);
      const r = await cli(['run', 'p', '--json'], { cwd: root });
      expect(r.code, r.stderr + r.stdout).toBe(2);
      writeFiles(root, { 'pipelines/p.yaml': 'name: p\narchetype: gate\ntraits:\n  a:\n    evaluator: pass\n' });
      const h = await cli(['history', 'p', '--json'], { cwd: root });
      expect(h.code, h.stderr).toBe(0);
      expect(JSON.parse(h.stdout)).toEqual([]); // no decision, no run
    });
  }

  it('registration over HTTP with each bad header → 400 CONFIG_INVALID naming the header; nothing registered', async () => {
    const s = await start(makeProject(dir()));
    const headers: Array<Record<string, string>> = [
      { 'X-Note': 'a\r\nInjected: 1' },
      { 'Bad Header': 'x' },
      { Host: 'other.example' },
      { 'transfer-encoding': 'chunked' },
      { 'Content-Length': '5' },
      { Connection: 'close' },
    ];
    for (const h of headers) {
      const r = await api(s.url, 'POST', '/api/pipelines', {
        name: 'hdr',
        archetype: 'gate',
        traits: { a: { evaluator: 'pass' } },
        trigger: { type: 'http', url: 'https://hooks.example.com/x', headers: h },
      });
      const what = JSON.stringify(h);
      expect(r.status, what).toBe(400);
      expect(r.body.error.code, what).toBe('CONFIG_INVALID');
      expect(r.body.error.details.problems[0].path, what).toBe(`trigger.headers.${Object.keys(h)[0]}`);
    }
    expect((await api(s.url, 'GET', '/api/pipelines/hdr')).status).toBe(404);
  });
});

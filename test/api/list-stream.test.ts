// GET /api/pipelines streams long lists (so 10k pipelines never sit in memory as one string): the result must be
// the same valid JSON array, in name order, with the same headers, as a short list.
import { expect, it } from 'vitest';
import { makeProject } from '../support/api-project.js';
import { useServers } from '../support/api-server.js';
import { api } from '../support/http-request.js';

const { dir, start } = useServers('interlock-api-list-');

it('a long pipeline list (over the streaming threshold) is one valid JSON array in name order', async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 700; i++) {
    const n = String(i).padStart(4, '0');
    files[`pipelines/gen-${n}.yaml`] = `name: gen-${n}\narchetype: gate\ntraits:\n  a:\n    evaluator: pass\n`;
  }
  const root = makeProject(dir(), { files });
  const s = await start(root);
  const r = await api(s.url, 'GET', '/api/pipelines');
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toContain('application/json');
  expect(r.headers['cache-control']).toBe('no-store');
  expect(Array.isArray(r.body)).toBe(true);
  expect(r.body).toHaveLength(702); // + p and no-trigger
  const names = r.body.map((p: { name: string }) => p.name);
  expect(names).toEqual([...names].sort());
  expect(r.body.find((p: { name: string }) => p.name === 'gen-0699')).toMatchObject({ archetype: 'gate' });
  // Same shape as one pipeline read on its own.
  const one = await api(s.url, 'GET', '/api/pipelines/gen-0001');
  expect(r.body.find((p: { name: string }) => p.name === 'gen-0001')).toEqual(one.body);
});

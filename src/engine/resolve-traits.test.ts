import { expect, it } from 'vitest';
import { resolveTraits } from './resolve-traits.js';

const locate = (ref: string) => `/abs/${ref}`;

it('required in archetype order, then listed optional; shallow-merged config; ttl/timeout precedence', () => {
  const out = resolveTraits(
    [{ type: 'b', defaultConfig: { x: 1, y: { deep: 1 } }, defaultTtl: 300, defaultTimeout: 10 }, { type: 'a' }],
    [{ type: 'o1' }, { type: 'o2', defaultTtl: 5 }],
    {
      o2: { evaluator: 'check-o2' },
      b: { config: { y: { other: 2 }, z: 3 }, ttl: 120, evaluator: './e/b' },
    },
    locate,
  );
  expect(out.map((t) => [t.type, t.required])).toEqual([
    ['b', true],
    ['a', true],
    ['o2', false],
  ]);
  expect(out[0]).toMatchObject({
    config: { x: 1, y: { other: 2 }, z: 3 },
    ttlSeconds: 120,
    timeoutSeconds: 10,
    evaluator: '/abs/./e/b',
    evaluatorRef: './e/b',
  });
  expect(out[1]).toMatchObject({ config: {}, timeoutSeconds: 30 });
  expect(out[1].ttlSeconds).toBeUndefined();
  expect(out[1].evaluator).toBeUndefined();
  expect(out[2]).toMatchObject({ ttlSeconds: 5, evaluator: '/abs/check-o2' });
});

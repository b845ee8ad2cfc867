// salvage: the valid remainder of a document, for the semantic rules.
import { describe, expect, it } from 'vitest';
import { salvage } from './salvage.js';
import { archetypeSchema, pipelineSchema } from './schema.js';

describe('salvage', () => {
  it('drops unknown keys and bad values, keeps the rest', () => {
    const doc = {
      name: 'p',
      archetype: 'nope',
      traits: { a: { confg: {}, timout: 5, evaluator: './e' }, b: { ttl: -1 } },
      tier: 'high',
    };
    expect(salvage(pipelineSchema, doc)).toEqual({
      name: 'p',
      archetype: 'nope',
      traits: { a: { evaluator: './e' }, b: {} },
      mode: 'live',
    });
    expect(doc.traits.a.timout).toBe(5);
  });

  it('drops an optional object that lacks a required field, and a list with a bad element', () => {
    expect(salvage(pipelineSchema, { name: 'p', archetype: 'a', trigger: { type: 'command' } })).toEqual({
      name: 'p',
      archetype: 'a',
      mode: 'live',
    });
    const arch = { name: 'a', requiredTraits: [{ type: 't' }], optionalTraits: [{ type: 'o' }, { typ: 'x' }] };
    expect(salvage(archetypeSchema, arch)).toMatchObject({ name: 'a', requiredTraits: [{ type: 't' }] });
    expect(salvage(archetypeSchema, arch)?.optionalTraits).toBeUndefined();
  });

  it('gives up when a required top-level field is bad', () => {
    expect(salvage(pipelineSchema, { name: 'Bad Name', archetype: 'a' })).toBeUndefined();
    expect(salvage(pipelineSchema, 'text')).toBeUndefined();
  });
});

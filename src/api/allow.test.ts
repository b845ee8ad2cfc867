import { describe, expect, it } from 'vitest';
import { allowedMethods } from './allow.js';
import { ROUTES } from './routes.js';

describe('allowedMethods', () => {
  it('the methods of every route whose template matches the whole path; HEAD beside GET', () => {
    expect(allowedMethods(ROUTES, '/api/pipelines')).toEqual(['GET', 'HEAD', 'POST']);
    expect(allowedMethods(ROUTES, '/api/pipelines/p')).toEqual(['DELETE', 'GET', 'HEAD']);
    expect(allowedMethods(ROUTES, '/api/pipelines/p/run')).toEqual(['POST']);
    expect(allowedMethods(ROUTES, '/api/pipelines/p/traits/a')).toEqual(['GET', 'HEAD', 'POST']);
    expect(allowedMethods(ROUTES, '/api/runs/01X/cancel')).toEqual(['POST']);
    expect(allowedMethods(ROUTES, '/api/openapi.json')).toEqual(['GET', 'HEAD']);
  });

  it('[] for a path no route has: a parameter is one non-empty segment, and the match is exact', () => {
    for (const path of ['/', '/api', '/api/pipelines/', '/api/pipelines//run', '/api/pipelines/a/b', '/api/health/']) {
      expect(allowedMethods(ROUTES, path), path).toEqual([]);
    }
    // A dot in a template is literal.
    expect(allowedMethods(ROUTES, '/api/openapiXjson')).toEqual([]);
  });
});

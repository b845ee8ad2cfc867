// Issue 15 trust: a Glue, Step Functions or Lambda trigger acts with this server's AWS credentials, so a pipeline
// registered over HTTP with one is refused (403, trigger.type) unless server.allowCommandRegistration trusts API
// registrations like YAML.
import { describe, expect, it } from 'vitest';
import { makeProject } from '../support/api-project.js';
import { useServers } from '../support/api-server.js';
import { api } from '../support/http-request.js';

const { dir, start } = useServers('interlock-api-aws-trust-');

const triggers = {
  glue: { type: 'glue', job: 'my-etl-job', region: 'us-east-1' },
  stepfunctions: { type: 'stepfunctions', stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:n' },
  lambda: { type: 'lambda', function: 'my-fn', region: 'us-east-1' },
};
const doc = (name: string, trigger: unknown) => ({
  name,
  archetype: 'gate',
  traits: { a: { evaluator: 'pass' } },
  trigger,
});

describe('AWS triggers registered over HTTP', () => {
  it('are refused by default (403 on trigger.type), nothing stored', async () => {
    const s = await start(makeProject(dir()));
    for (const [type, trigger] of Object.entries(triggers)) {
      const r = await api(s.url, 'POST', '/api/pipelines', doc(`reg-${type}`, trigger));
      expect(r.status, r.text).toBe(403);
      expect(r.body.error.code).toBe('FORBIDDEN');
      expect(r.body.error.details.problems[0]).toMatchObject({ path: 'trigger.type' });
      expect(r.body.error.details.problems[0].message).toContain('AWS credentials');
      expect((await api(s.url, 'GET', `/api/pipelines/reg-${type}`)).status).toBe(404);
    }
  });

  it('are accepted with server.allowCommandRegistration: true', async () => {
    const s = await start(
      makeProject(dir(), { config: 'provider: sqlite\nserver:\n  allowCommandRegistration: true\n' }),
    );
    for (const [type, trigger] of Object.entries(triggers)) {
      const r = await api(s.url, 'POST', '/api/pipelines', doc(`reg-${type}`, trigger));
      expect(r.status, r.text).toBe(201);
    }
  });
});

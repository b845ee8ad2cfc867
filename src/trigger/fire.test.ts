// fireTrigger's contract (never throws), missingTriggerVars before a run.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in trigger specs are the subject under test.
import { describe, expect, it } from 'vitest';
import type { TriggerSpec } from '../core/types.js';
import { fireTrigger, missingTriggerVars } from './index.js';

const airflow: TriggerSpec = {
  type: 'http',
  method: 'POST',
  url: 'http://airflow:8080/api/v1/dags/${DAG_ID}/dagRuns',
  headers: { Authorization: 'Bearer ${AIRFLOW_TOKEN}', 'X-Run': '${INTERLOCK_RUN_ID}' },
  body: '{"conf":{"run":"${INTERLOCK_RUN_ID}","pipeline":"${INTERLOCK_PIPELINE}","by":"${USER_NAME}"}}',
};

describe('missingTriggerVars', () => {
  it('lists unset and empty variables from url, headers and body, in order, once each', () => {
    expect(missingTriggerVars(airflow, {})).toEqual(['DAG_ID', 'AIRFLOW_TOKEN', 'USER_NAME']);
    expect(missingTriggerVars(airflow, { DAG_ID: 'x', AIRFLOW_TOKEN: '', USER_NAME: 'me' })).toEqual(['AIRFLOW_TOKEN']);
    expect(missingTriggerVars(airflow, { DAG_ID: 'x', AIRFLOW_TOKEN: 't', USER_NAME: 'me' })).toEqual([]);
  });

  it('never lists INTERLOCK_RUN_ID or INTERLOCK_PIPELINE (always provided)', () => {
    const spec: TriggerSpec = { type: 'http', url: 'http://h/${INTERLOCK_PIPELINE}', body: '${INTERLOCK_RUN_ID}' };
    expect(missingTriggerVars(spec, {})).toEqual([]);
  });

  it('only ${NAME} is a reference: $NAME, ${A:-b}, ${1} and $${X} are left alone... except the ${X} inside $${X}', () => {
    const spec: TriggerSpec = { type: 'http', url: 'http://h/$PLAIN/${A:-b}/${1}/$${X}' };
    expect(missingTriggerVars(spec, {})).toEqual(['X']);
  });

  it('is empty for commands: their $VARs belong to sh, which may set them itself', () => {
    expect(
      missingTriggerVars({ type: 'command', command: 'for f in *; do echo ${f}; done; run ${TOKEN}' }, {}),
    ).toEqual([]);
  });
});

describe('fireTrigger', () => {
  it('turns an unknown trigger type into a FAILED outcome instead of throwing', async () => {
    const out = await fireTrigger({ type: 'ftp' } as unknown as TriggerSpec, {
      projectDir: '/',
      pipeline: 'p',
      runId: 'r',
      env: {},
    });
    expect(out).toMatchObject({ ok: false, async: false, error: 'unknown trigger type ftp' });
  });

  it('turns a malformed spec into a FAILED outcome instead of throwing', async () => {
    const bad = { type: 'http', url: 42, headers: null } as unknown as TriggerSpec;
    const out = await fireTrigger(bad, { projectDir: '/', pipeline: 'p', runId: 'r', env: {} });
    expect(out.ok).toBe(false);
    expect(out.type).toBe('http');
    expect(typeof out.error).toBe('string');
  });
});

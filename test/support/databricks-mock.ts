// A local Databricks Jobs API 2.1 that checks requests the way Databricks does: bearer token, JSON body, job_id of a
// known job, idempotency_token (at most 64 characters; a repeat returns the run it launched), runs/get state,
// runs/cancel; errors as {error_code, message}.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MockJobRun {
  run_id: number;
  job_id: number;
  idempotency_token?: string;
  job_parameters?: Record<string, string>;
  life_cycle_state: string;
  result_state?: string;
}

export interface DatabricksRequest {
  method: string;
  path: string;
  query: string;
  authorization?: string;
  body?: unknown;
  status: number;
}

export interface DatabricksMock {
  url: string;
  runs: Map<number, MockJobRun>;
  requests: DatabricksRequest[];
  /** Moves a run on (as the jobs service would). */
  advance(runId: number, life: string, result?: string): void;
  /** The next run-now launches its run, then the connection is destroyed before any answer. */
  dropNextRunNowAnswer(): void;
  /** The request to `path` after `skip` more of them gets `status` (changing nothing). */
  failNext(path: string, status: number, skip?: number): void;
  close(): Promise<void>;
}

const RUN_NOW_FIELDS = new Set([
  'job_id',
  'idempotency_token',
  'job_parameters',
  'notebook_params',
  'python_params',
  'jar_params',
  'spark_submit_params',
  'python_named_params',
  'sql_params',
  'dbt_commands',
  'pipeline_params',
  'queue',
  'only',
  'performance_target',
]);

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startDatabricksMock(opts: { jobs: number[]; token: string }): Promise<DatabricksMock> {
  const runs = new Map<number, MockJobRun>();
  const requests: DatabricksRequest[] = [];
  let nextRunId = 1000;
  let drop = false;
  const failures: Array<{ path: string; status: number; skip: number }> = [];

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const text = Buffer.concat(chunks).toString('utf8');
      const rec: DatabricksRequest = { method: req.method ?? '', path: url.pathname, query: url.search, status: 0 };
      if (req.headers.authorization !== undefined) rec.authorization = req.headers.authorization;
      requests.push(rec);
      const answer = (status: number, body: unknown) => {
        rec.status = status;
        send(res, status, body);
      };
      const error = (status: number, error_code: string, message: string) => answer(status, { error_code, message });
      let body: unknown;
      if (text !== '') {
        try {
          body = JSON.parse(text);
          rec.body = body;
        } catch {
          return error(400, 'MALFORMED_REQUEST', 'Invalid JSON given in the body of the request');
        }
      }
      if (req.headers.authorization !== `Bearer ${opts.token}`)
        return error(401, 'UNAUTHENTICATED', 'Credential was not sent or was of an unsupported type for this API.');
      const f = failures.findIndex((x) => x.path === url.pathname && x.skip-- <= 0);
      if (f >= 0) {
        const [x] = failures.splice(f, 1);
        return error(x.status, x.status === 429 ? 'REQUEST_LIMIT_EXCEEDED' : 'TEMPORARILY_UNAVAILABLE', 'injected');
      }
      const json = req.headers['content-type']?.split(';')[0]?.trim() === 'application/json';
      if (url.pathname === '/api/2.1/jobs/run-now' && req.method === 'POST') {
        if (!json) return error(400, 'MALFORMED_REQUEST', 'expected application/json');
        const b = (body ?? {}) as Record<string, unknown>;
        const unknown = Object.keys(b).filter((k) => !RUN_NOW_FIELDS.has(k));
        if (unknown.length) return error(400, 'INVALID_PARAMETER_VALUE', `Unknown field(s): ${unknown.join(', ')}`);
        if (typeof b.job_id !== 'number' || !Number.isInteger(b.job_id))
          return error(400, 'INVALID_PARAMETER_VALUE', 'job_id is required and must be an integer');
        if (!opts.jobs.includes(b.job_id))
          return error(400, 'INVALID_PARAMETER_VALUE', `Job ${b.job_id} does not exist.`);
        const token = b.idempotency_token;
        if (token !== undefined && (typeof token !== 'string' || token.length > 64))
          return error(400, 'INVALID_PARAMETER_VALUE', 'idempotency_token must be a string of at most 64 characters');
        const params = b.job_parameters;
        if (
          params !== undefined &&
          (typeof params !== 'object' || params === null || Object.values(params).some((v) => typeof v !== 'string'))
        )
          return error(400, 'INVALID_PARAMETER_VALUE', 'job_parameters must be a map of strings');
        const existing =
          token === undefined ? undefined : [...runs.values()].find((r) => r.idempotency_token === token);
        if (existing) return answer(200, { run_id: existing.run_id, number_in_job: existing.run_id });
        const run: MockJobRun = {
          run_id: nextRunId++,
          job_id: b.job_id,
          life_cycle_state: 'PENDING',
          ...(token !== undefined ? { idempotency_token: token as string } : {}),
          ...(params !== undefined ? { job_parameters: params as Record<string, string> } : {}),
        };
        runs.set(run.run_id, run);
        if (drop) {
          drop = false;
          rec.status = -1;
          req.socket.destroy();
          return;
        }
        return answer(200, { run_id: run.run_id, number_in_job: run.run_id });
      }
      if (url.pathname === '/api/2.1/jobs/runs/get' && req.method === 'GET') {
        const id = Number(url.searchParams.get('run_id'));
        const run = runs.get(id);
        if (!run) return error(400, 'INVALID_PARAMETER_VALUE', `Run ${url.searchParams.get('run_id')} does not exist.`);
        return answer(200, {
          run_id: run.run_id,
          job_id: run.job_id,
          state: {
            life_cycle_state: run.life_cycle_state,
            ...(run.result_state ? { result_state: run.result_state } : {}),
            state_message: '',
          },
        });
      }
      if (url.pathname === '/api/2.1/jobs/runs/cancel' && req.method === 'POST') {
        if (!json) return error(400, 'MALFORMED_REQUEST', 'expected application/json');
        const id = (body as { run_id?: unknown } | undefined)?.run_id;
        const run = typeof id === 'number' ? runs.get(id) : undefined;
        if (!run) return error(400, 'INVALID_PARAMETER_VALUE', `Run ${String(id)} does not exist.`);
        if (run.life_cycle_state !== 'TERMINATED') {
          run.life_cycle_state = 'TERMINATED';
          run.result_state = 'CANCELED';
        }
        return answer(200, {});
      }
      return error(404, 'ENDPOINT_NOT_FOUND', `No API found for '${req.method} ${url.pathname}'`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    runs,
    requests,
    advance(id, life, result) {
      const r = runs.get(id);
      if (!r) throw new Error(`no run ${id}`);
      r.life_cycle_state = life;
      if (result === undefined) delete r.result_state;
      else r.result_state = result;
    },
    dropNextRunNowAnswer() {
      drop = true;
    },
    failNext(path, status, skip = 0) {
      failures.push({ path, status, skip });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

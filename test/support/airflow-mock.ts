// A local Airflow REST API (stable v1 of Airflow 2, or v2 of Airflow 3) that checks requests the way Airflow does:
// paths, methods, auth, content type, required and known fields, dag_run_id uniqueness (409), the DAG run states.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type AirflowState = 'queued' | 'running' | 'success' | 'failed';

export interface MockDagRun {
  dag_id: string;
  dag_run_id: string;
  state: AirflowState;
  conf: Record<string, unknown>;
  logical_date: string | null;
}

export interface AirflowRequest {
  method: string;
  path: string;
  authorization?: string;
  contentType?: string;
  body?: unknown;
  status: number;
}

export interface AirflowMockOptions {
  /** 'v1': Airflow 2 (/api/v1; GET /api/v2/version is 404); 'v2': Airflow 3 (/api/v2 only). */
  version: 'v1' | 'v2';
  dags: string[];
  /** The Authorization header value Airflow accepts (anything else: 401). */
  authorization: string;
}

export interface AirflowMock {
  url: string;
  runs: Map<string, MockDagRun>;
  requests: AirflowRequest[];
  /** Moves a DAG run on (as the scheduler would). */
  advance(dagRunId: string, state: AirflowState): void;
  /** The next POST /dagRuns creates its run, then the connection is destroyed before any answer. */
  dropNextPostAnswer(): void;
  /** The next request to match `method` gets this status (and the Problem body), changing nothing. */
  failNext(method: string, status: number): void;
  close(): Promise<void>;
}

/** Keys of Airflow 2's DAGRun schema a client may send (the rest are read-only or unknown: 400). */
const V1_WRITABLE = new Set([
  'dag_run_id',
  'logical_date',
  'execution_date',
  'conf',
  'note',
  'data_interval_start',
  'data_interval_end',
]);
/** Airflow 3's TriggerDAGRunPostBody. */
const V2_FIELDS = new Set([
  'dag_run_id',
  'logical_date',
  'conf',
  'note',
  'data_interval_start',
  'data_interval_end',
  'run_after',
]);
const PATCH_STATES = new Set(['success', 'failed', 'queued']);

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function problem(res: ServerResponse, status: number, title: string, detail: string): number {
  send(res, status, { type: 'about:blank', title, status, detail });
  return status;
}

export async function startAirflowMock(opts: AirflowMockOptions): Promise<AirflowMock> {
  const runs = new Map<string, MockDagRun>();
  const requests: AirflowRequest[] = [];
  let dropPost = false;
  const failures: Array<{ method: string; status: number }> = [];
  const prefix = `/api/${opts.version}`;

  const view = (r: MockDagRun) => ({ ...r, ...(opts.version === 'v1' ? { execution_date: r.logical_date } : {}) });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const text = await readBody(req);
    const record: AirflowRequest = { method, path: url.pathname, status: 0 };
    if (req.headers.authorization !== undefined) record.authorization = req.headers.authorization;
    if (req.headers['content-type'] !== undefined) record.contentType = req.headers['content-type'];
    requests.push(record);
    let body: unknown;
    if (text !== '') {
      try {
        body = JSON.parse(text);
        record.body = body;
      } catch {
        body = Symbol('bad');
      }
    }
    const answer = (status: number) => {
      record.status = status;
      return status;
    };

    if (url.pathname === '/api/v2/version' && method === 'GET') {
      if (opts.version === 'v1') return answer(problem(res, 404, 'Not Found', 'no such path'));
      if (req.headers.authorization !== opts.authorization)
        return answer(problem(res, 401, 'Unauthorized', 'bad credentials'));
      send(res, 200, { version: '3.0.2', git_version: null });
      return answer(200);
    }
    if (!url.pathname.startsWith(`${prefix}/`))
      return answer(problem(res, 404, 'Not Found', `no such path ${url.pathname}`));
    if (req.headers.authorization !== opts.authorization)
      return answer(problem(res, 401, 'Unauthenticated', 'the request lacks valid authentication credentials'));
    const i = failures.findIndex((f) => f.method === method);
    if (i >= 0) {
      const [f] = failures.splice(i, 1);
      return answer(problem(res, f.status, 'Injected', 'injected failure'));
    }
    const m = /^\/dags\/([^/]+)\/dagRuns(?:\/([^/]+))?$/.exec(url.pathname.slice(prefix.length));
    if (!m) return answer(problem(res, 404, 'Not Found', `no such path ${url.pathname}`));
    const dagId = decodeURIComponent(m[1]);
    const runId = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    if (!opts.dags.includes(dagId))
      return answer(problem(res, 404, 'DAG not found', `DAG with dag_id: '${dagId}' not found`));
    const json = req.headers['content-type']?.split(';')[0]?.trim() === 'application/json';

    if (runId === undefined && method === 'POST') {
      if (!json)
        return answer(
          problem(res, opts.version === 'v1' ? 415 : 422, 'Unsupported Media Type', 'expected application/json'),
        );
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        return answer(problem(res, opts.version === 'v1' ? 400 : 422, 'Bad Request', 'body must be a JSON object'));
      const b = body as Record<string, unknown>;
      const allowed = opts.version === 'v1' ? V1_WRITABLE : V2_FIELDS;
      const unknown = Object.keys(b).filter((k) => !allowed.has(k));
      if (unknown.length)
        return answer(
          problem(res, opts.version === 'v1' ? 400 : 422, 'Bad Request', `unknown fields ${unknown.join(', ')}`),
        );
      // Airflow 3: logical_date is required (it may be null).
      if (opts.version === 'v2' && !('logical_date' in b))
        return answer(problem(res, 422, 'Unprocessable Entity', 'logical_date: Field required'));
      if (b.conf !== undefined && (typeof b.conf !== 'object' || b.conf === null || Array.isArray(b.conf)))
        return answer(problem(res, 400, 'Bad Request', 'conf must be an object'));
      const id = b.dag_run_id;
      if (typeof id !== 'string' || !/^[A-Za-z0-9_.~:+-]+$/.test(id))
        return answer(problem(res, 400, 'Bad Request', `dag_run_id ${String(id)} does not match the allowed pattern`));
      if (runs.has(id))
        return answer(
          problem(res, 409, 'Conflict', `DAGRun with DAG ID: '${dagId}' and DAGRun ID: '${id}' already exists`),
        );
      const run: MockDagRun = {
        dag_id: dagId,
        dag_run_id: id,
        state: 'queued',
        conf: (b.conf as Record<string, unknown>) ?? {},
        logical_date:
          typeof b.logical_date === 'string' ? b.logical_date : opts.version === 'v1' ? new Date().toISOString() : null,
      };
      runs.set(id, run);
      if (dropPost) {
        dropPost = false;
        record.status = -1;
        req.socket.destroy();
        return -1;
      }
      send(res, 200, view(run));
      return answer(200);
    }
    if (runId === undefined) return answer(problem(res, 405, 'Method Not Allowed', method));
    const run = runs.get(runId);
    if (!run || run.dag_id !== dagId)
      return answer(
        problem(res, 404, 'DAGRun not found', `DAGRun with DAG ID: '${dagId}' and DagRun ID: '${runId}' not found`),
      );
    if (method === 'GET') {
      send(res, 200, view(run));
      return answer(200);
    }
    if (method === 'PATCH') {
      if (!json)
        return answer(
          problem(res, opts.version === 'v1' ? 415 : 422, 'Unsupported Media Type', 'expected application/json'),
        );
      const state = (body as { state?: unknown } | undefined)?.state;
      if (typeof state !== 'string' || !PATCH_STATES.has(state))
        return answer(problem(res, 400, 'Bad Request', `state must be one of success, failed, queued`));
      run.state = state as AirflowState;
      send(res, 200, view(run));
      return answer(200);
    }
    return answer(problem(res, 405, 'Method Not Allowed', method));
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    runs,
    requests,
    advance(id, state) {
      const r = runs.get(id);
      if (!r) throw new Error(`no DAG run ${id}`);
      r.state = state;
    },
    dropNextPostAnswer() {
      dropPost = true;
    },
    failNext(method, status) {
      failures.push({ method, status });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// A local AWS (Glue, Step Functions, Lambda) that checks requests the way the services do, from their public API
// references: every request's SigV4 signature is recomputed with an independent signer (aws4) from known test
// credentials (a wrong secret or a body changed after signing is refused 403 InvalidSignatureException, an unknown
// key 403 UnrecognizedClientException); Glue and Step Functions are JSON-RPC (POST /, X-Amz-Target
// AWSGlue.* / AWSStepFunctions.*, application/x-amz-json-1.1 / 1.0); Lambda is REST-JSON
// (POST /2015-03-31/functions/{name}/invocations, X-Amz-Invocation-Type, X-Amz-Function-Error). It implements the
// idempotency behaviour (Step Functions: the same name and input return the same execution, else
// ExecutionAlreadyExists) and the run-state calls, so a test can drive a job from start to success or failure.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import aws4 from 'aws4';

/** Test credentials the mock accepts (as set in a subprocess's env). */
export const AWS_TEST_CREDENTIALS = {
  accessKeyId: 'AKIDINTERLOCKTEST01',
  secretAccessKey: 'interlock-test-secret-key-0123456789abcdef',
  sessionToken: 'interlock-test-session-token-zyxwvutsrqponm',
} as const;
export const AWS_TEST_REGION = 'us-east-1';
export const AWS_TEST_ACCOUNT = '123456789012';

/** The env that points the AWS SDK at nothing real: test credentials, a region, no metadata service, no profile. */
export function awsTestEnv(): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: AWS_TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: AWS_TEST_CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: AWS_TEST_CREDENTIALS.sessionToken,
    AWS_REGION: AWS_TEST_REGION,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
  };
}

export interface MockGlueRun {
  Id: string;
  JobName: string;
  Arguments: Record<string, string>;
  JobRunState: string;
  StartedOn: number;
}
export interface MockExecution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: string;
  status: string;
  startDate: number;
}
/** A mock Lambda function: its answer to an event (a FunctionError with its payload, or a payload). */
export type MockFunction = (event: unknown) => { payload: unknown; functionError?: 'Unhandled' | 'Handled' };

export interface AwsRequest {
  service: 'glue' | 'states' | 'lambda' | 'unknown';
  /** Glue/SFN: the X-Amz-Target operation; Lambda: Invoke. */
  operation: string;
  status: number;
  /** Why the mock refused it (signature, protocol, validation), if it did. */
  refused?: string;
  body?: unknown;
}

export interface AwsMock {
  url: string;
  glueRuns: Map<string, MockGlueRun>;
  executions: Map<string, MockExecution>;
  invocations: Array<{ function: string; event: unknown }>;
  requests: AwsRequest[];
  /** Moves a Glue job run on (as Glue would). */
  advanceGlue(id: string, state: string): void;
  /** Moves an execution on (as Step Functions would). */
  advanceExecution(arn: string, status: string): void;
  /** The next `times` requests of `operation` do their work, then the connection is destroyed before any answer. */
  dropNextAnswer(operation: string, times?: number): void;
  /** The next request of `operation` is never answered and does nothing (as if it never arrived). */
  swallowNext(operation: string): void;
  /** The next `times` requests of `operation` get `status` with the error `name` (changing nothing). */
  failNext(operation: string, status: number, name: string, times?: number): void;
  /** Add an older Glue job run (a scan has to page past it). */
  addGlueRun(run: MockGlueRun): void;
  close(): Promise<void>;
}

function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

/**
 * Recomputes the request's SigV4 signature with aws4 over exactly the headers it says it signed, for the service
 * and region of its credential scope, with the known secret. Returns why it is refused, or undefined.
 */
export function verifySigV4(
  req: { method: string; url: string; headers: IncomingMessage['headers'] },
  body: Buffer,
  expect: { service: string; region: string },
  creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = AWS_TEST_CREDENTIALS,
): { status: number; name: string; message: string } | undefined {
  const auth = req.headers.authorization;
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth ?? '',
    );
  if (!m) return { status: 403, name: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  const [, key, day, region, service, signedHeaders, signature] = m as unknown as string[];
  if (key !== creds.accessKeyId)
    return {
      status: 403,
      name: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    };
  if (service !== expect.service || region !== expect.region)
    return {
      status: 403,
      name: 'InvalidSignatureException',
      message: `Credential should be scoped to a valid region and service (${expect.region}/${expect.service}), not ${region}/${service}.`,
    };
  const date = req.headers['x-amz-date'];
  if (typeof date !== 'string' || !/^\d{8}T\d{6}Z$/.test(date) || date.slice(0, 8) !== day)
    return {
      status: 400,
      name: 'IncompleteSignatureException',
      message: 'X-Amz-Date is missing or does not match the scope',
    };
  const at = Date.UTC(
    +date.slice(0, 4),
    +date.slice(4, 6) - 1,
    +date.slice(6, 8),
    +date.slice(9, 11),
    +date.slice(11, 13),
    +date.slice(13, 15),
  );
  if (Math.abs(Date.now() - at) > 15 * 60 * 1000)
    return { status: 403, name: 'InvalidSignatureException', message: 'Signature expired' };
  const signed = (signedHeaders as string).split(';');
  for (const required of ['host', 'x-amz-date'])
    if (!signed.includes(required))
      return { status: 403, name: 'InvalidSignatureException', message: `${required} must be signed` };
  if (creds.sessionToken !== undefined && req.headers['x-amz-security-token'] !== creds.sessionToken)
    return {
      status: 403,
      name: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    };
  const declared = req.headers['x-amz-content-sha256'];
  if (typeof declared === 'string' && declared !== sha256(body))
    return {
      status: 400,
      name: 'InvalidSignatureException',
      message: 'The provided x-amz-content-sha256 does not match the body',
    };
  const headers: Record<string, string> = {};
  for (const h of signed) {
    const v = req.headers[h];
    if (v === undefined)
      return { status: 403, name: 'InvalidSignatureException', message: `signed header ${h} is missing` };
    headers[h] = Array.isArray(v) ? v.join(',') : v;
  }
  const opts = {
    host: headers.host,
    method: req.method,
    path: req.url,
    service,
    region,
    headers,
    body: body.toString('utf8'),
    // The SDK signs exactly `signed`; aws4 must not add headers of its own to the canonical request.
    doNotModifyHeaders: true,
  };
  const signer = new aws4.RequestSigner(opts, {
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    ...(creds.sessionToken !== undefined ? { sessionToken: creds.sessionToken } : {}),
  });
  // With doNotModifyHeaders aws4 does not read the date from the headers: the request's signing time is given.
  (signer as unknown as { datetime: string }).datetime = date;
  const recomputed = signer.sign() as { headers: Record<string, string> };
  const ours = /Signature=([0-9a-f]{64})/.exec(
    recomputed.headers.Authorization ?? recomputed.headers.authorization ?? '',
  )?.[1];
  if (ours !== signature)
    return {
      status: 403,
      name: 'InvalidSignatureException',
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    };
  return undefined;
}

const GLUE_OPS = new Set(['StartJobRun', 'GetJobRun', 'GetJobRuns', 'BatchStopJobRun']);
const SFN_OPS = new Set(['StartExecution', 'DescribeExecution', 'StopExecution']);
/** Step Functions refuses whitespace, brackets, wildcards, these punctuation marks and control characters. */
const NAME_REFUSED = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/;
const validExecutionName = (n: string) =>
  n.length >= 1 &&
  n.length <= 80 &&
  !NAME_REFUSED.test(n) &&
  ![...n].some((c) => c.charCodeAt(0) < 32 || (c.charCodeAt(0) >= 127 && c.charCodeAt(0) <= 159));

export async function startAwsMock(opts: {
  glueJobs?: string[];
  stateMachines?: string[];
  functions?: Record<string, MockFunction>;
  region?: string;
}): Promise<AwsMock> {
  const region = opts.region ?? AWS_TEST_REGION;
  const glueJobs = new Set(opts.glueJobs ?? []);
  const machines = new Set(opts.stateMachines ?? []);
  const functions = opts.functions ?? {};
  const glueRuns = new Map<string, MockGlueRun>();
  const executions = new Map<string, MockExecution>();
  const invocations: Array<{ function: string; event: unknown }> = [];
  const requests: AwsRequest[] = [];
  const drops = new Map<string, number>();
  const swallowed = new Set<string>();
  const failures = new Map<string, { status: number; name: string; times: number }>();
  let nextRun = 1;

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const target = String(req.headers['x-amz-target'] ?? '');
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const lambdaPath = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(path);
      const service: AwsRequest['service'] = target.startsWith('AWSGlue.')
        ? 'glue'
        : target.startsWith('AWSStepFunctions.')
          ? 'states'
          : lambdaPath
            ? 'lambda'
            : 'unknown';
      const operation = service === 'lambda' ? 'Invoke' : (target.split('.')[1] ?? '');
      const rec: AwsRequest = { service, operation, status: 0 };
      requests.push(rec);
      const json = service === 'glue' ? 'application/x-amz-json-1.1' : 'application/x-amz-json-1.0';
      const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        rec.status = status;
        const text = body === undefined ? '' : JSON.stringify(body);
        res.writeHead(status, {
          'content-type': service === 'lambda' ? 'application/json' : json,
          'content-length': Buffer.byteLength(text),
          'x-amzn-requestid': `req-${requests.length}`,
          ...headers,
        });
        res.end(text);
      };
      const error = (status: number, name: string, message: string) => {
        rec.refused ??= `${name}: ${message}`;
        if (service === 'lambda')
          return reply(status, { Type: status >= 500 ? 'Service' : 'User', message }, { 'x-amzn-errortype': name });
        return reply(status, { __type: name, message }, { 'x-amzn-errortype': name });
      };
      if (service === 'unknown')
        return error(404, 'UnknownOperationException', `no such operation ${req.method} ${path} ${target}`);
      const refused = verifySigV4({ method: req.method ?? '', url: req.url ?? '/', headers: req.headers }, raw, {
        service,
        region,
      });
      if (refused) return error(refused.status, refused.name, refused.message);
      if (req.method !== 'POST') return error(405, 'MethodNotAllowed', `${req.method} is not allowed`);
      let body: Record<string, unknown>;
      if (service !== 'lambda') {
        if (req.headers['content-type'] !== json)
          return error(
            400,
            'SerializationException',
            `expected Content-Type ${json}, got ${req.headers['content-type']}`,
          );
        if (path !== '/') return error(404, 'UnknownOperationException', `JSON-RPC calls go to /, not ${path}`);
        if (!(service === 'glue' ? GLUE_OPS : SFN_OPS).has(operation))
          return error(400, 'UnknownOperationException', `unknown operation ${target}`);
        try {
          body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
        } catch {
          return error(400, 'SerializationException', 'the body is not JSON');
        }
        if (body === null || typeof body !== 'object' || Array.isArray(body))
          return error(400, 'SerializationException', 'the body is not a JSON object');
      } else body = {};
      rec.body = body;
      if (swallowed.delete(operation)) {
        rec.status = -1;
        return;
      }
      const failure = failures.get(operation);
      if (failure) {
        if (--failure.times <= 0) failures.delete(operation);
        return error(failure.status, failure.name, 'failing as the test asked');
      }
      const left = drops.get(operation) ?? 0;
      const drop = left > 0;
      if (drop) drops.set(operation, left - 1);
      const answer = (status: number, out: unknown, headers: Record<string, string> = {}) => {
        if (drop) {
          rec.status = -1;
          req.socket.destroy();
          return;
        }
        reply(status, out, headers);
      };
      const str = (k: string) => (typeof body[k] === 'string' && body[k] !== '' ? (body[k] as string) : undefined);
      const missing = (k: string) =>
        error(
          400,
          service === 'glue' ? 'InvalidInputException' : 'ValidationException',
          `1 validation error detected: Value null at '${k}' failed to satisfy constraint: Member must not be null`,
        );

      if (service === 'glue') {
        const jobName = str('JobName');
        if (!jobName) return missing('jobName');
        if (!glueJobs.has(jobName)) return error(400, 'EntityNotFoundException', `Job ${jobName} not found`);
        if (operation === 'StartJobRun') {
          const args = body.Arguments ?? {};
          if (
            typeof args !== 'object' ||
            Array.isArray(args) ||
            Object.values(args as object).some((v) => typeof v !== 'string')
          )
            return error(400, 'InvalidInputException', 'Arguments must be a map of strings');
          const id = `jr_${createHash('sha256').update(String(nextRun++)).digest('hex')}`;
          glueRuns.set(id, {
            Id: id,
            JobName: jobName,
            Arguments: args as Record<string, string>,
            JobRunState: 'STARTING',
            StartedOn: Date.now(),
          });
          return answer(200, { JobRunId: id });
        }
        if (operation === 'GetJobRun') {
          const id = str('RunId');
          if (!id) return missing('runId');
          const run = glueRuns.get(id);
          if (!run || run.JobName !== jobName) return error(400, 'EntityNotFoundException', `Job run ${id} not found`);
          return answer(200, { JobRun: { ...run, StartedOn: run.StartedOn / 1000 } });
        }
        if (operation === 'GetJobRuns') {
          const max = typeof body.MaxResults === 'number' ? body.MaxResults : 100;
          if (!Number.isInteger(max) || max < 1 || max > 200)
            return error(400, 'InvalidInputException', 'MaxResults must be 1..200');
          const all = [...glueRuns.values()]
            .filter((r) => r.JobName === jobName)
            .sort((a, b) => b.StartedOn - a.StartedOn);
          const from = str('NextToken') ? Number(str('NextToken')) : 0;
          const page = all.slice(from, from + max);
          return answer(200, {
            JobRuns: page.map((r) => ({ ...r, StartedOn: r.StartedOn / 1000 })),
            ...(from + max < all.length ? { NextToken: String(from + max) } : {}),
          });
        }
        // BatchStopJobRun
        const ids = body.JobRunIds;
        if (!Array.isArray(ids) || ids.length === 0 || ids.length > 25) return missing('jobRunIds');
        const ok: unknown[] = [];
        const errors: unknown[] = [];
        for (const id of ids as string[]) {
          const run = glueRuns.get(id);
          if (!run || run.JobName !== jobName)
            errors.push({
              JobName: jobName,
              JobRunId: id,
              ErrorDetail: { ErrorCode: 'EntityNotFoundException', ErrorMessage: `Job run ${id} not found` },
            });
          else if (['SUCCEEDED', 'FAILED', 'STOPPED', 'TIMEOUT', 'ERROR'].includes(run.JobRunState))
            errors.push({
              JobName: jobName,
              JobRunId: id,
              ErrorDetail: { ErrorCode: 'InvalidInputException', ErrorMessage: `Job run ${id} has already ended` },
            });
          else {
            run.JobRunState = 'STOPPING';
            ok.push({ JobName: jobName, JobRunId: id });
          }
        }
        return answer(200, { SuccessfulSubmissions: ok, Errors: errors });
      }

      if (service === 'states') {
        if (operation === 'StartExecution') {
          const arn = str('stateMachineArn');
          if (!arn) return missing('stateMachineArn');
          if (!machines.has(arn))
            return error(400, 'StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
          const name = str('name') ?? crypto.randomUUID();
          if (!validExecutionName(name)) return error(400, 'InvalidName', `Invalid Name: '${name}'`);
          const input = typeof body.input === 'string' ? body.input : '{}';
          try {
            JSON.parse(input);
          } catch {
            return error(400, 'InvalidExecutionInput', 'Invalid State Machine Execution Input');
          }
          const [, , , r, account, , machine] = arn.split(':');
          const executionArn = `arn:aws:states:${r}:${account}:execution:${machine}:${name}`;
          const existing = executions.get(executionArn);
          if (existing) {
            // Idempotent: a RUNNING execution with the same name and input is the answer again.
            if (existing.status === 'RUNNING' && existing.input === input)
              return answer(200, { executionArn, startDate: existing.startDate / 1000 });
            return error(400, 'ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
          }
          const exec = { executionArn, stateMachineArn: arn, name, input, status: 'RUNNING', startDate: Date.now() };
          executions.set(executionArn, exec);
          return answer(200, { executionArn, startDate: exec.startDate / 1000 });
        }
        const arn = str('executionArn');
        if (!arn) return missing('executionArn');
        const exec = executions.get(arn);
        if (!exec) return error(400, 'ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
        if (operation === 'DescribeExecution') return answer(200, { ...exec, startDate: exec.startDate / 1000 });
        // StopExecution
        if (exec.status === 'RUNNING') exec.status = 'ABORTED';
        return answer(200, { stopDate: Date.now() / 1000 });
      }

      // Lambda Invoke
      const fnName = decodeURIComponent(lambdaPath?.[1] ?? '');
      const type = req.headers['x-amz-invocation-type'] ?? 'RequestResponse';
      if (type !== 'RequestResponse' && type !== 'Event' && type !== 'DryRun')
        return error(400, 'InvalidParameterValueException', `invalid X-Amz-Invocation-Type ${type}`);
      const fn = functions[fnName.replace(/^arn:aws:lambda:[^:]+:\d{12}:function:/, '')];
      if (!fn)
        return error(
          404,
          'ResourceNotFoundException',
          `Function not found: arn:aws:lambda:${region}:${AWS_TEST_ACCOUNT}:function:${fnName}`,
        );
      let event: unknown;
      try {
        event = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
      } catch {
        return error(400, 'InvalidRequestContentException', 'Could not parse request body into json');
      }
      rec.body = event;
      if (type !== 'RequestResponse')
        return error(400, 'InvalidParameterValueException', 'this mock runs RequestResponse only');
      invocations.push({ function: fnName, event });
      const out = fn(event);
      return answer(200, out.payload, {
        'x-amz-executed-version': '$LATEST',
        ...(out.functionError ? { 'x-amz-function-error': out.functionError } : {}),
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    glueRuns,
    executions,
    invocations,
    requests,
    advanceGlue(id, state) {
      const run = glueRuns.get(id);
      if (!run) throw new Error(`no glue run ${id}`);
      run.JobRunState = state;
    },
    advanceExecution(arn, status) {
      const exec = executions.get(arn);
      if (!exec) throw new Error(`no execution ${arn}`);
      exec.status = status;
    },
    swallowNext(operation) {
      swallowed.add(operation);
    },
    dropNextAnswer(operation, times = 1) {
      drops.set(operation, times);
    },
    failNext(operation, status, name, times = 1) {
      failures.set(operation, { status, name, times });
    },
    addGlueRun(run) {
      glueRuns.set(run.Id, run);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

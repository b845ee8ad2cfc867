// The one harness library of the tests, the benchmarks (bench/), the chaos runner (chaos/) and the soak run (soak/):
// everything that starts, watches or inspects the real things (the built CLI, `interlock serve`, redis-server,
// SQLite files, processes). One concept per file; this index re-exports them all.
//
// Files marked (vitest) import vitest and are for test files only; bench, chaos and soak import the other files
// directly (`test/support/<file>.js`), which also keeps what they load small.
//
//   paths.ts              REPO, BIN, CHECKPOINT_CLI, FIXTURE_EVALUATORS
//   checkpoint-cli.mjs    (a script, not exported) the built CLI with a run checkpoint hook: stops a run at a point
//   temp-dir.ts           tempDir
//   test-cleanups.ts      useCleanups, useTempDirs, tempDirFor (vitest)
//   files.ts              writeFiles, put, copyFixtureEvaluators, lines
//   minimal-project.ts    minimalProject, FIXTURE_ENV: archetype `gate` + pipeline `p` over fixture evaluators (CLI tests)
//   airflow-mock.ts       startAirflowMock, AirflowMock: a local Airflow REST API (v1/v2) that checks requests like Airflow
//   aws-mock.ts           startAwsMock, AwsMock, awsTestEnv, verifySigV4: a local Glue, Step Functions and Lambda
//                         that recomputes every SigV4 signature with aws4 and checks requests like AWS
//   databricks-mock.ts    startDatabricksMock, DatabricksMock: a local Databricks Jobs API 2.1 checking requests likewise
//   api-project.ts        makeProject, ProjectOptions: the API tests' project (`p` with a recording trigger, `no-trigger`)
//   trigger-recorder.ts   RECORD_TRIGGER, fired, alerts: what the trigger and the alert file sink recorded
//   run-cli.ts            cli, timedCli, cliClosingStdout, sh, CliResult: the built CLI / a shell script, to completion
//   cli-output.ts         json, show, stripAnsi, ANSI
//   server-process.ts     ServerProcess, serveProcess, childEnv: start a server, wait for `listening on`, stop by pid
//   exit-cleanups.ts      onExit, runExitCleanups: last-resort cleanups when a tool's process exits
//   processes.ts          isAlive, waitDead, killQuietly, pids, procStat, descendants, rssKb, peakRssKb, rssOf,
//                         cpuMsOf, openFds: /proc checks
//   leftover-processes.ts MARK_VAR, markedProcesses, waitMarkedGone, killMarked: processes a run left behind
//   expect-dead.ts        expectAllDead (vitest)
//   fake-clock.ts         FakeClock: a Clock for unit tests whose advance() fires due timers in order, instantly
//   poll.ts               sleep, until, waitFor
//   http-request.ts       raw, api, http, httpOk, Reply, RawRequest: one request on a fresh connection
//   alert-receiver.ts     startAlertReceiver: a local webhook recording alert payloads with their arrival time
//   alert-services.ts     startSlackMock, startPagerDutyMock: Slack / PagerDuty stand-ins that check requests as documented
//   api-server.ts         startTestServer, useServers, waitForRun, expectErrorShape, TestServer (vitest)
//   outage-store.ts       outageStore: a store whose outage a test switches on
//   postgres.ts           PG_URL, freshSchemaName, pgAdmin, dropSchemas: the machine's PostgreSQL, a schema per test
//   prometheus.ts         requirePrometheus, promtoolCheckMetrics, startPrometheus: Debian's promtool and a real server
//   redis.ts              RedisServer, startRedis, startCluster, freePort, rawCommand, requireRedis
//   use-redis.ts          useRedis: one redis-server per file or describe block, started and destroyed by hooks (vitest)
//   sqlite-file.ts        withDb, integrity, counts
//   sqlite-lock.ts        holdWriteLock, LockHolder: a second process holding a SQLite write lock
//   build-check.ts        checkBuild: refuse to run without dist/, warn when src/ is newer
//   recording-logger.ts   recordingLogger, LogEntry: a Logger that records what a use-case logged
//   runtime-context.ts    writeGateProject, openGateContext, gatePipeline, recordAlerts: a runtime unit test's
//                         project, Context (MemoryStore, FakeClock, recording logger) and registered pipeline `p`
//   windows.ts            scheduledProject, ordersWatch, ordersWindow, DAILY, storeResults…: schedule-window fixtures
export * from './airflow-mock.js';
export * from './alert-receiver.js';
export * from './alert-services.js';
export * from './api-project.js';
export * from './api-server.js';
export * from './aws-mock.js';
export * from './build-check.js';
export * from './cli-output.js';
export * from './databricks-mock.js';
export * from './exit-cleanups.js';
export * from './expect-dead.js';
export * from './fake-clock.js';
export * from './files.js';
export * from './http-request.js';
export * from './leftover-processes.js';
export * from './minimal-project.js';
export * from './outage-store.js';
export * from './paths.js';
export * from './poll.js';
export * from './postgres.js';
export * from './processes.js';
export * from './prometheus.js';
export * from './recording-logger.js';
export * from './redis.js';
export * from './run-cli.js';
export * from './runtime-context.js';
export * from './server-process.js';
export * from './sqlite-file.js';
export * from './sqlite-lock.js';
export * from './temp-dir.js';
export * from './test-cleanups.js';
export * from './trigger-recorder.js';
export * from './use-redis.js';
export * from './windows.js';

// Redis key layout: every key of one pipeline shares the hash tag {<pipeline>}, so each script touches one slot.
import { InterlockError } from '../../core/errors.js';
import { type AlertKey, alertKeyId } from '../rules.js';

/*
 * Layout (P = keyPrefix, default 'interlock:'; <p> = encodePart(pipeline); <t> = encodePart(trait)):
 *
 *   P pipelines                    hash    name -> PipelineSpec JSON (registered pipelines)
 *   P run-index                    hash    runId -> pipeline name (for getRun(runId))
 *   P store-id                     string  random id set once (SET NX): a project that saw it and finds it gone
 *                                          knows the store lost its data (see identity.ts)
 *   P{<p>}:traits                  set     trait names that have (or had) a latest result
 *   P{<p>}:trait:<t>               string  TraitResult JSON, with native expiry (PX) when expiresAt is set
 *   P{<p>}:trait-expired:<t>       string  tombstone: the last TraitResult JSON that had an expiry (no PX), read
 *                                          only once the live key is gone, as an expired result
 *   P{<p>}:readiness               string  Readiness JSON of the latest evaluation
 *   P{<p>}:seq                     string  counter ordering decisions and run events (ties in one ms)
 *   P{<p>}:decisions               zset    seq (16 digits) scored by decidedAt
 *   P{<p>}:decision-data           hash    seq -> DecisionRecord JSON
 *   P{<p>}:runs                    zset    runId scored by createdAt (ties: runId, newest = greatest)
 *   P{<p>}:run-data                hash    runId -> RunState JSON
 *   P{<p>}:run-keys                hash    runKey -> runId: every run key ever claimed in this pipeline (a run key
 *                                          names its pipeline, `<p>@…`, so this is the one place it can be claimed)
 *   P{<p>}:active                  string  runId holding the pipeline's active-run lock
 *   P{<p>}:events                  zset    seq scored by at
 *   P{<p>}:event-data              hash    seq -> RunEvent JSON
 *   P{<p>}:alert:<k>               hash    fp, sentAt — <k> = the alert key as one string (alertKeyId in
 *                                          ../rules.ts: pipeline, kind, trait), encoded
 *
 * Watcher keys, all in ONE slot (the tag {!watch}, which no pipeline name can encode to: encodePart never writes
 * '!'), because a fenced window write must read its lease in the same atomic step, and a lease fences the windows
 * of every pipeline. The price: every window lives on one cluster node (see redis-store.ts).
 *
 *   P{!watch}:window-data          hash    window key -> WindowRecord JSON
 *   P{!watch}:windows:<p>          zset    window key scored by openAt (ties: key; newest = greatest)
 *   P{!watch}:window-live:<p>      set     keys of the pipeline's non-terminal windows
 *   P{!watch}:window-newest:<p>    hash    schedule -> key of its newest window (greatest openAt, then key)
 *   P{!watch}:window-pipelines     set     pipelines that have (or had) a window
 *   P{!watch}:lease:<n>            hash    holder, epoch, expiresAt (epoch ms on the server's clock)
 *
 *   P changes                      pub/sub channel (not a key): every write script PUBLISHes
 *                                          {"kind":…,"pipeline":…} on it (the change feed)
 *
 * encodePart keeps [A-Za-z0-9._-] and writes every other UTF-16 unit as %XXXX, so an encoded name never holds
 * '{', '}' or ':' (it cannot leave its braces or fake a key suffix) and distinct names stay distinct ('a:b',
 * 'a}x' and 'a' cannot collide). The empty name encodes as '%' so the hash tag is never the empty '{}', which
 * Redis would ignore.
 */

const PLAIN = /^[A-Za-z0-9._-]+$/;
const UNSAFE_UNIT = /[^A-Za-z0-9._-]/g;

/** Injective, brace-free and colon-free encoding of a name used inside a key. */
export function encodePart(name: string): string {
  if (name === '') return '%';
  if (PLAIN.test(name)) return name;
  return name.replace(UNSAFE_UNIT, (ch) => `%${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The keys of one pipeline. All share the hash tag, so every script and MGET over them is single-slot. */
export interface PipelineKeys {
  tag: string;
  traits: string;
  trait(name: string): string;
  /** The trait's tombstone: its last result with an expiry, kept after Redis drops the live key. */
  traitTomb(name: string): string;
  readiness: string;
  seq: string;
  decisions: string;
  decisionData: string;
  runs: string;
  runData: string;
  /** runKey -> runId: the run keys claimed in this pipeline. */
  runKeys: string;
  active: string;
  events: string;
  eventData: string;
}

/** The hash tag of the watcher's keys: not one a pipeline name can encode to (encodePart never writes '!'). */
export const WATCH_TAG = '{!watch}';

/** The watcher's keys: windows and leases, all in one slot (WATCH_TAG). */
export interface WatchKeys {
  tag: string;
  windowData: string;
  windows(pipeline: string): string;
  live(pipeline: string): string;
  newest(pipeline: string): string;
  pipelines: string;
  lease(name: string): string;
}

/**
 * The pipeline a run key or window key names: the text before its first '@' (`<pipeline>@<schedule>@<instant>`,
 * and `#<attempt>` for a run key); undefined when there is none.
 */
export function keyPipeline(key: string): string | undefined {
  const at = key.indexOf('@');
  return at > 0 ? key.slice(0, at) : undefined;
}

/** Checks a key prefix: braces would change the hash tag and break single-slot scripts on a cluster. */
export function checkKeyPrefix(prefix: string): string {
  if (/[{}]/.test(prefix)) {
    throw new InterlockError('CONFIG_INVALID', `redis.keyPrefix '${prefix}' must not contain '{' or '}'`);
  }
  return prefix;
}

export class KeyLayout {
  readonly pipelines: string;
  readonly runIndex: string;
  readonly identity: string;
  /** The change feed's pub/sub channel. */
  readonly changes: string;
  readonly watch: WatchKeys;

  constructor(readonly prefix: string) {
    checkKeyPrefix(prefix);
    this.pipelines = `${prefix}pipelines`;
    this.runIndex = `${prefix}run-index`;
    this.identity = `${prefix}store-id`;
    this.changes = `${prefix}changes`;
    const base = `${prefix}${WATCH_TAG}:`;
    this.watch = {
      tag: WATCH_TAG,
      windowData: `${base}window-data`,
      windows: (p) => `${base}windows:${encodePart(p)}`,
      live: (p) => `${base}window-live:${encodePart(p)}`,
      newest: (p) => `${base}window-newest:${encodePart(p)}`,
      pipelines: `${base}window-pipelines`,
      lease: (name) => `${base}lease:${encodePart(name)}`,
    };
  }

  pipeline(name: string): PipelineKeys {
    const tag = `{${encodePart(name)}}`;
    const base = `${this.prefix}${tag}:`;
    return {
      tag,
      traits: `${base}traits`,
      trait: (trait) => `${base}trait:${encodePart(trait)}`,
      traitTomb: (trait) => `${base}trait-expired:${encodePart(trait)}`,
      readiness: `${base}readiness`,
      seq: `${base}seq`,
      decisions: `${base}decisions`,
      decisionData: `${base}decision-data`,
      runs: `${base}runs`,
      runData: `${base}run-data`,
      runKeys: `${base}run-keys`,
      active: `${base}active`,
      events: `${base}events`,
      eventData: `${base}event-data`,
    };
  }

  /** An alert's de-duplication hash: tagged by its pipeline, so it lives in that pipeline's slot. */
  alert(key: AlertKey): string {
    return `${this.prefix}{${encodePart(key.pipeline)}}:alert:${encodePart(alertKeyId(key))}`;
  }
}

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
 *   P{<p>}:active                  string  runId holding the pipeline's active-run lock
 *   P{<p>}:events                  zset    seq scored by at
 *   P{<p>}:event-data              hash    seq -> RunEvent JSON
 *   P{<p>}:alert:<k>               hash    fp, sentAt — <k> = the alert key as one string (alertKeyId in
 *                                          ../rules.ts: pipeline, kind, trait), encoded
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
  active: string;
  events: string;
  eventData: string;
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

  constructor(readonly prefix: string) {
    checkKeyPrefix(prefix);
    this.pipelines = `${prefix}pipelines`;
    this.runIndex = `${prefix}run-index`;
    this.identity = `${prefix}store-id`;
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

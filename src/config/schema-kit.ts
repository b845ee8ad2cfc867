// The zod building blocks every config schema shares (strict objects with did-you-mean, present-only messages) and
// the ConfigIssue shape; a leaf, so schema.ts and schedule-schema.ts can both build on it without a cycle.
import { z } from 'zod';
import { didYouMean } from './suggest.js';

/** One structural problem: where (path into the document) and what. `atKey`: point at the key, not its value. */
export interface ConfigIssue {
  path: Array<string | number>;
  message: string;
  atKey: boolean;
}

/** `unknown key 'x'`, with a hint when a known key is within two edits. */
export function unknownKeyMessage(key: string, known: readonly string[]): string {
  return `unknown key '${key}'${didYouMean(key, known)}`;
}

// A schema-level message applies only when a value is present; a missing value falls through to `required`.
export const whenPresent =
  (message: string) =>
  (iss: { input?: unknown }): string | undefined =>
    iss.input === undefined ? undefined : message;

/** z.strictObject whose unknown-key issue carries one message per key (joined by '\n'), with did-you-mean hints. */
export function strict<T extends z.core.$ZodLooseShape>(shape: T) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys' ? iss.keys.map((k) => unknownKeyMessage(k, known)).join('\n') : undefined,
  });
}

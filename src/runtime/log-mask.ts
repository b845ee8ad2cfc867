// The secrets a service's log lines must not carry, masked the way stored records mask them (`***`): the values of
// secret-looking environment variables (as in command output and trigger outcomes) and the API token.
import { redact, secretEnvValues, secretForms } from '../trigger/redact.js';

export interface SecretMask {
  /** `text` with every known secret (in each of its encoded forms) replaced by `***`. */
  mask(text: string): string;
  /** Adds a secret known only after start-up (server.authToken from interlock.yaml). */
  add(value: string): void;
}

export function secretMask(env: Readonly<NodeJS.ProcessEnv>): SecretMask {
  const secrets = new Set(secretEnvValues(env as NodeJS.ProcessEnv));
  return {
    mask: (text) => (secrets.size === 0 ? text : redact(text, secrets)),
    add: (value) => {
      for (const f of secretForms(value)) secrets.add(f);
    },
  };
}

// Redaction and byte-bounded cuts: what keeps secrets out of trigger outcomes.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders are the subject under test.
import { describe, expect, it } from 'vitest';
import {
  firstBytes,
  lastBytes,
  redact,
  redactCredentialParams,
  redactUrlUserinfo,
  redactWhole,
  secretEnvValues,
  secretForms,
  secretHeaderValues,
  wholeHeaderSecrets,
} from './redact.js';

describe('redact', () => {
  it('replaces every occurrence of each secret with ***', () => {
    expect(redact('a s3cret b s3cret', ['s3cret'])).toBe('a *** b ***');
  });

  it('ignores secrets shorter than 4 characters and empty ones', () => {
    expect(redact('abc abcd', ['abc', '', 'abcd'])).toBe('abc ***');
  });

  it('masks a longer secret whole even when a shorter one is inside it', () => {
    expect(redact('token=abcd-efgh', ['abcd', 'abcd-efgh'])).toBe('token=***');
  });

  it('treats secrets literally (no regex)', () => {
    expect(redact('x a.b*c+ y', ['a.b*c+'])).toBe('x *** y');
  });
});

describe('secret sources', () => {
  it('secretForms adds percent-encoded and JSON-escaped forms', () => {
    expect(secretForms('a b"c/d')).toEqual(expect.arrayContaining(['a b"c/d', 'a%20b%22c%2Fd', 'a b\\"c/d']));
  });

  // Issue 9 item 15: each encoding a response may echo a secret in is masked.
  const TOKEN = 'tök/en+<&>"\'=1';
  const echoes: Array<[string, string]> = [
    ['raw', TOKEN],
    ['JSON-escaped', JSON.stringify(TOKEN).slice(1, -1)],
    ['JSON-escaped with \\/', JSON.stringify(TOKEN).slice(1, -1).replace(/\//g, '\\/')],
    ['JSON-escaped ASCII-only (Python)', 't\\u00f6k\\/en+<&>\\"\'=1'],
    ['percent-encoded', encodeURIComponent(TOKEN)],
    ['percent-encoded, lower-case hex', encodeURIComponent(TOKEN).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())],
    ['form-encoded', encodeURIComponent(`${TOKEN} x`).replace(/%20/g, '+')],
    ['HTML-escaped', 'tök/en+&lt;&amp;&gt;&quot;&#39;=1'],
    ['HTML-escaped (&#x27;)', 'tök/en+&lt;&amp;&gt;&quot;&#x27;=1'],
    ['HTML-escaped (&#34;)', 'tök/en+&lt;&amp;&gt;&#34;&#39;=1'],
    ['Latin-1 bytes read as UTF-8 (a status text)', Buffer.from(TOKEN, 'latin1').toString('utf8')],
    ['UTF-8 bytes read as Latin-1', Buffer.from(TOKEN, 'utf8').toString('latin1')],
  ];
  for (const [what, echo] of echoes) {
    it(`redact masks a secret echoed ${what}`, () => {
      const forms = what === 'form-encoded' ? secretForms(`${TOKEN} x`) : secretForms(TOKEN);
      const out = redact(`before ${echo} after`, forms);
      expect(out).toBe('before *** after');
    });
  }

  it('redactWhole masks a short secret as a whole token only', () => {
    expect(redactWhole('invalid key ab; {"k":"ab"} ?k=ab', ['ab'])).toBe('invalid key ***; {"k":"***"} ?k=***');
    expect(redactWhole('about abc cab', ['ab'])).toBe('about abc cab');
    expect(redactWhole('x', ['x'])).toBe('***');
  });

  it('wholeHeaderSecrets: credential headers and one-${VAR} headers, any length, every form', () => {
    expect(wholeHeaderSecrets('X-Api-Key', 'k', 'k')).toContain('k');
    expect(wholeHeaderSecrets('Authorization', 'Bearer ${T}', 'Bearer a/')).toEqual(
      expect.arrayContaining(['Bearer a/', 'a/', 'a%2F', 'a\\/']),
    );
    expect(wholeHeaderSecrets('X-Tenant', '${TENANT}', 'ab')).toContain('ab');
    expect(wholeHeaderSecrets('Content-Type', 'application/json', 'application/json')).toEqual([]);
  });

  it('redactCredentialParams masks secret-looking query parameters and JSON members, not placeholders', () => {
    expect(redactCredentialParams('https://h/x?token=abc123&dag=d1&api_key=k9;sig=zz')).toBe(
      'https://h/x?token=***&dag=d1&api_key=***;sig=***',
    );
    expect(redactCredentialParams('https://h/x?token=${TOKEN}&a=b')).toBe('https://h/x?token=${TOKEN}&a=b');
    expect(redactCredentialParams('{"conf":{"password": "hunter2", "pin_key": 1234, "dag": "x"}}')).toBe(
      '{"conf":{"password": "***", "pin_key": "***", "dag": "x"}}',
    );
    expect(redactCredentialParams('{"token":"${T}"}')).toBe('{"token":"${T}"}');
    expect(redactCredentialParams('user=a&password=p%40ss')).toBe('user=a&password=***');
  });

  it('secretEnvValues picks values of secret-looking names only', () => {
    const v = secretEnvValues({
      GITHUB_TOKEN: 'ghp_xxxx',
      DB_PASSWORD: 'pw-1234',
      aws_secret_access_key: 'AKIA-secret',
      MY_CREDENTIALS: 'cred-1',
      HOME: '/home/user',
      TOKEN_SHORT: 'ab',
    });
    expect(v).toEqual(expect.arrayContaining(['ghp_xxxx', 'pw-1234', 'AKIA-secret', 'cred-1']));
    expect(v).not.toContain('/home/user');
    expect(v).not.toContain('ab');
  });

  it('secretHeaderValues covers credential headers and the credential after the scheme', () => {
    expect(secretHeaderValues('Authorization', 'Bearer abc123def')).toEqual(
      expect.arrayContaining(['Bearer abc123def', 'abc123def']),
    );
    expect(secretHeaderValues('X-Api-Key', 'k-123456')).toContain('k-123456');
    expect(secretHeaderValues('Content-Type', 'application/json')).toEqual([]);
    expect(secretHeaderValues('X-Amz-Target', 'AWSGlue.StartJobRun')).toEqual([]);
  });

  it('redactUrlUserinfo masks a literal password only', () => {
    expect(redactUrlUserinfo('https://user:pa55@host/x?a=b')).toBe('https://user:***@host/x?a=b');
    expect(redactUrlUserinfo('https://host/x?a=user:pass@b')).toBe('https://host/x?a=user:pass@b');
    expect(redactUrlUserinfo('http://airflow:8080/api')).toBe('http://airflow:8080/api');
  });
});

describe('byte cuts', () => {
  it('firstBytes never splits a UTF-8 character', () => {
    expect(firstBytes('héllo', 2)).toBe('h');
    expect(firstBytes('héllo', 3)).toBe('hé');
    expect(firstBytes('short', 512)).toBe('short');
  });

  it('lastBytes never splits a UTF-8 character', () => {
    expect(lastBytes('abcé', 1)).toBe('');
    expect(lastBytes('abcé', 2)).toBe('é');
    expect(lastBytes('abcé', 3)).toBe('cé');
  });
});

// Redaction and byte-bounded cuts: what keeps secrets out of trigger outcomes.
import { describe, expect, it } from 'vitest';
import {
  firstBytes,
  lastBytes,
  redact,
  redactUrlUserinfo,
  secretEnvValues,
  secretForms,
  secretHeaderValues,
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
    expect(secretForms('a b"c/d')).toEqual(['a b"c/d', 'a%20b%22c%2Fd', 'a b\\"c/d']);
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

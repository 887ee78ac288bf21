import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from '../../dev/find-executable.ts';
import { runCommand } from '../../dev/run-command.ts';
import { registerCleanup } from './cleanup.ts';

/**
 * Certificates for the transport-security tests, made with the openssl command (installed from
 * Debian's packages when missing): a CA, and certificates it signs for a server or a client.
 * Files live in a directory of the test file's own, removed when its tests end.
 */
export interface TestCertificateAuthority {
  /** PEM file of the CA's certificate (what DATABASE_SSL_CA / KAFKA_SSL_CA name) */
  certificateFile: string;
  certificatePem: string;
  issue(name: string, names: { dns?: string[]; ip?: string[] }): Promise<IssuedCertificate>;
}

export interface IssuedCertificate {
  certificateFile: string;
  keyFile: string;
  certificatePem: string;
  /** PKCS#8, unencrypted */
  keyPem: string;
}

async function opensslCommand(): Promise<string> {
  const found = await findExecutable('openssl');
  if (found !== undefined) return found;
  await runCommand('apt-get', ['install', '-y', '--no-install-recommends', 'openssl'], {
    timeoutMs: 300_000,
  });
  const installed = await findExecutable('openssl');
  if (installed === undefined) throw new Error('openssl is needed and could not be installed');
  return installed;
}

let workDir: Promise<string> | undefined;
function certificatesDir(): Promise<string> {
  workDir ??= mkdtemp(join(tmpdir(), 'customer-sync-certs-')).then((dir) => {
    registerCleanup(() => rm(dir, { recursive: true, force: true }));
    return dir;
  });
  return workDir;
}

export async function createTestCertificateAuthority(
  name: string,
): Promise<TestCertificateAuthority> {
  const openssl = await opensslCommand();
  const dir = await certificatesDir();
  const certificateFile = join(dir, `${name}-ca.crt`);
  const keyFile = join(dir, `${name}-ca.key`);
  await runCommand(openssl, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certificateFile,
    '-days',
    '2',
    '-subj',
    `/CN=${name} test CA`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return {
    certificateFile,
    certificatePem: await readFile(certificateFile, 'utf8'),
    async issue(subject, names) {
      const base = join(dir, `${name}-${subject}`);
      const alternativeNames = [
        ...(names.dns ?? []).map((dns) => `DNS:${dns}`),
        ...(names.ip ?? []).map((ip) => `IP:${ip}`),
      ];
      await writeFile(
        `${base}.ext`,
        [
          'basicConstraints=CA:FALSE',
          'keyUsage=critical,digitalSignature,keyEncipherment',
          'extendedKeyUsage=serverAuth,clientAuth',
          ...(alternativeNames.length > 0 ? [`subjectAltName=${alternativeNames.join(',')}`] : []),
          '',
        ].join('\n'),
      );
      await runCommand(openssl, [
        'req',
        '-new',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${base}.key`,
        '-out',
        `${base}.csr`,
        '-subj',
        `/CN=${subject}`,
      ]);
      await runCommand(openssl, [
        'x509',
        '-req',
        '-in',
        `${base}.csr`,
        '-CA',
        certificateFile,
        '-CAkey',
        keyFile,
        '-CAcreateserial',
        '-out',
        `${base}.crt`,
        '-days',
        '2',
        '-extfile',
        `${base}.ext`,
      ]);
      return {
        certificateFile: `${base}.crt`,
        keyFile: `${base}.key`,
        certificatePem: await readFile(`${base}.crt`, 'utf8'),
        keyPem: await readFile(`${base}.key`, 'utf8'),
      };
    },
  };
}

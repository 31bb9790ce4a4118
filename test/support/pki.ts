// Throwaway certificates for tests that serve TLS on 127.0.0.1, made with the openssl CLI in a
// temporary folder: self-signed CAs (P-256, valid one day) and leaf certificates they issue.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pem {
  cert: string;
  key: string;
}

export class TestPki {
  constructor(private readonly dir: string) {}

  private run(...args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: 'pipe' });
  }

  private static readonly EC = [
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
  ];

  private read(name: string): Pem {
    return {
      cert: readFileSync(join(this.dir, `${name}.crt`), 'utf8'),
      key: readFileSync(join(this.dir, `${name}.key`), 'utf8'),
    };
  }

  /** A self-signed CA, stored as `<name>.crt` / `<name>.key`. */
  ca(name: string, subject = name): Pem {
    this.run(
      'req',
      '-x509',
      ...TestPki.EC,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-subj',
      `/CN=${subject}`,
    );
    return this.read(name);
  }

  /** A leaf certificate for `name`, signed by CA `ca`, with extension lines `ext`. */
  issue(name: string, ca: string, ext: string): Pem {
    this.run(
      'req',
      ...TestPki.EC,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
    );
    writeFileSync(join(this.dir, `${name}.cnf`), `${ext}\nbasicConstraints=CA:FALSE\n`);
    this.run(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-extfile',
      `${name}.cnf`,
    );
    return this.read(name);
  }
}

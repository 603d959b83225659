import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DevTls {
  /** The CA every client of the dev provider trusts. */
  caPem: string;
  certPem: string;
  keyPem: string;
  caFile: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * A CA and a server certificate for 127.0.0.1 and localhost, made once per
 * data directory: msal-node refuses http:// authorities, and a fixed CA lets
 * the console trust the provider across restarts.
 */
export function ensureDevTls(dir: string): DevTls {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = (name: string) => join(dir, name);
  if (!existsSync(path('server.pem'))) {
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca-key.pem'], dir);
    openssl(['req', '-x509', '-new', '-key', 'ca-key.pem', '-sha256', '-days', '3650', '-subj', '/CN=Roomlink Dev CA', '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ca.pem'], dir);
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server-key.pem'], dir);
    openssl(['req', '-new', '-key', 'server-key.pem', '-subj', '/CN=127.0.0.1', '-out', 'server.csr'], dir);
    writeFileSync(path('server.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n');
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '825', '-sha256', '-extfile', 'server.ext', '-out', 'server.pem'], dir);
  }
  return { caPem: readFileSync(path('ca.pem'), 'utf8'), certPem: readFileSync(path('server.pem'), 'utf8'), keyPem: readFileSync(path('server-key.pem'), 'utf8'), caFile: path('ca.pem') };
}

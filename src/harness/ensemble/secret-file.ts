/** Random secrets the harness writes for an ensemble (the HTTP face's token, the quorum secret). */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** 32 random bytes: as hard to guess as a SHA-256 digest. */
const SECRET_BYTES = 32;

/** Writes a new random secret to `file` (mode 0600, only its owner reads it) and returns it. */
export function writeRandomSecret(file: string): string {
  const secret = crypto.randomBytes(SECRET_BYTES).toString('base64url');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  // An existing file keeps its mode through writeFileSync.
  fs.chmodSync(file, 0o600);
  return secret;
}

/**
 * The bearer token of an ensemble's HTTP face (zoo.cfg admin.tokenFile). Every ensemble the
 * harness makes gets its own: `DIR/admin-token`, mode 0600, named in each server's zoo.cfg and
 * in ensemble.json (`adminTokenFile`); fault posts, REST setup and the http load driver send
 * it as `Authorization: Bearer <token>`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeRandomSecret } from './secret-file.js';

export const ADMIN_TOKEN_FILE = 'admin-token';
const TOKEN_FILE_BYTES_MAX = 4096;

/** The token file of the ensemble in `dir`. */
export function adminTokenPath(dir: string): string {
  return path.join(path.resolve(dir), ADMIN_TOKEN_FILE);
}

/** Writes a new random token to `file` (mode 0600, only its owner reads it) and returns the token. */
export function writeAdminToken(file: string): string {
  return writeRandomSecret(file);
}

/** The token in `file`, trimmed; throws when it cannot be read or is empty. */
export function readAdminToken(file: string): string {
  const size = fs.statSync(file).size;
  if (size > TOKEN_FILE_BYTES_MAX) throw new Error(`${file} is ${size} bytes; a token file is at most ${TOKEN_FILE_BYTES_MAX}`);
  const token = fs.readFileSync(file, 'utf8').trim();
  if (token === '') throw new Error(`${file} is empty; it must hold the HTTP face's token`);
  return token;
}

/** The header that carries the token, or none when there is no token. */
export function adminAuthHeaders(token: string | null): Record<string, string> {
  return token === null ? {} : { authorization: `Bearer ${token}` };
}

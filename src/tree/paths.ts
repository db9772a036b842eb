/**
 * Znode paths: validation with ZooKeeper's rules (PathUtils), parent/child arithmetic and
 * the sequential-node suffix.
 */
import { Code, KeeperException } from '../jute/index.js';

/** The nodes ZooKeeper owns; clients may not create or delete them. */
export const ROOT_PATH = '/';
export const PROC_ZOOKEEPER = '/zookeeper';
export const QUOTA_ZOOKEEPER = '/zookeeper/quota';
export const CONFIG_NODE = '/zookeeper/config';
/** Everything below this prefix is left out of the tree digest, as in ZooKeeper. */
export const ZOOKEEPER_NODE_SUBTREE = '/zookeeper/';

export function isSpecialPath(path: string): boolean {
  return path === ROOT_PATH || path === PROC_ZOOKEEPER || path === QUOTA_ZOOKEEPER || path === CONFIG_NODE;
}

/** Why a path is invalid, or undefined when it is valid. */
export function pathProblem(path: string): string | undefined {
  if (path.length === 0) return 'path length must be > 0';
  if (path.charCodeAt(0) !== 0x2f) return 'path must start with / character';
  if (path.length === 1) return undefined;
  if (path.charCodeAt(path.length - 1) === 0x2f) return 'path must not end with / character';
  let last = 0x2f;
  for (let i = 1; i < path.length; last = path.charCodeAt(i), i++) {
    const c = path.charCodeAt(i);
    if (c === 0) return `null character not allowed @${i}`;
    if (c === 0x2f && last === 0x2f) return `empty node name specified @${i}`;
    if (c === 0x2e) {
      // '.' and '..' as whole path elements are relative paths.
      const atEnd = i + 1 === path.length || path.charCodeAt(i + 1) === 0x2f;
      if (last === 0x2e && path.charCodeAt(i - 2) === 0x2f && atEnd) return `relative paths not allowed @${i}`;
      if (last === 0x2f && atEnd) return `relative paths not allowed @${i}`;
      continue;
    }
    // Control characters, surrogates (so any non-BMP character), private use and specials.
    if (
      (c > 0x00 && c <= 0x1f) ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0xd800 && c <= 0xf8ff) ||
      (c >= 0xfff0 && c <= 0xffff)
    ) {
      return `invalid character @${i}`;
    }
  }
  return undefined;
}

/**
 * Throws KeeperException(BADARGUMENTS) when the path breaks ZooKeeper's rules. For a
 * sequential create the path is checked with a digit appended, since the server adds the
 * suffix (so '/queue/' is a valid sequential prefix).
 */
export function validatePath(path: string, isSequential = false): void {
  const problem = pathProblem(isSequential ? path + '1' : path);
  if (problem !== undefined) throw new KeeperException(Code.BADARGUMENTS, path);
}

/** '/a/b' -> '/a', '/a' -> '/', '/' -> '/' (the root is its own parent here). */
export function parentOf(path: string): string {
  const lastSlash = path.lastIndexOf('/');
  if (lastSlash <= 0) return ROOT_PATH;
  return path.slice(0, lastSlash);
}

/** '/a/b' -> 'b', '/' -> ''. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The child's full path under parent. */
export function childPath(parent: string, child: string): string {
  return parent === ROOT_PATH ? `/${child}` : `${parent}/${child}`;
}

/** Java's String.format("%010d", n): width 10, zero padded, sign inside the width. */
export function sequentialSuffix(n: number): string {
  const v = Math.trunc(n);
  if (v < 0) return '-' + String(-v).padStart(9, '0');
  return String(v).padStart(10, '0');
}

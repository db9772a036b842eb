import { describe, expect, it } from 'vitest';
import { Code, KeeperException } from '../../../src/jute/index.js';
import { baseName, isSpecialPath, parentOf, sequentialSuffix, validatePath } from '../../../src/tree/index.js';

function codeOf(fn: () => void): number | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as KeeperException).code;
  }
}

describe('validatePath (ZooKeeper PathUtils rules)', () => {
  it.each(['/', '/a', '/a/b', '/a.b', '/a/..b', '/a/.b./c', '/ünïcödé', '/a b', '/a/...'])('accepts %j', (p) => {
    expect(() => validatePath(p)).not.toThrow();
  });

  it.each([
    ['', 'empty'],
    ['a', 'no leading slash'],
    ['/a/', 'trailing slash'],
    ['//a', 'empty node name'],
    ['/a//b', 'empty node name'],
    ['/a/./b', 'relative .'],
    ['/a/../b', 'relative ..'],
    ['/.', 'relative . at end'],
    ['/a/..', 'relative .. at end'],
    ['/a\u0000b', 'null character'],
    ['/a\u0001', 'control character'],
    ['/a\u007f', 'DEL'],
    ['/a\u0085', 'C1 control'],
    ['/a\ud83d\ude00', 'non-BMP (surrogates)'],
    ['/a\ue000', 'private use'],
    ['/a\ufff0', 'specials'],
  ])('rejects %j (%s) with BADARGUMENTS', (p) => {
    expect(codeOf(() => validatePath(p))).toBe(Code.BADARGUMENTS);
  });

  it('checks a sequential create with the suffix in place, so a trailing slash is a valid prefix', () => {
    expect(() => validatePath('/queue/', true)).not.toThrow();
    expect(codeOf(() => validatePath('/queue/'))).toBe(Code.BADARGUMENTS);
    expect(codeOf(() => validatePath('/queue//', true))).toBe(Code.BADARGUMENTS);
  });

  it('names the offending path in the exception', () => {
    try {
      validatePath('/x//y');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KeeperException);
      expect((e as KeeperException).path).toBe('/x//y');
    }
  });
});

describe('path arithmetic', () => {
  it('parentOf and baseName', () => {
    expect(parentOf('/a/b/c')).toBe('/a/b');
    expect(parentOf('/a')).toBe('/');
    expect(parentOf('/')).toBe('/');
    expect(baseName('/a/b')).toBe('b');
    expect(baseName('/a')).toBe('a');
    expect(baseName('/')).toBe('');
  });

  it('knows the nodes ZooKeeper owns', () => {
    for (const p of ['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']) expect(isSpecialPath(p)).toBe(true);
    expect(isSpecialPath('/zookeeper/other')).toBe(false);
  });
});

describe('sequentialSuffix (String.format("%010d"))', () => {
  it('pads to ten digits', () => {
    expect(sequentialSuffix(0)).toBe('0000000000');
    expect(sequentialSuffix(42)).toBe('0000000042');
    expect(sequentialSuffix(2147483647)).toBe('2147483647');
  });
  it('keeps the sign inside the width once the counter overflows', () => {
    expect(sequentialSuffix(-1)).toBe('-000000001');
    expect(sequentialSuffix(-2147483648)).toBe('-2147483648');
  });
});

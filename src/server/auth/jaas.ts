/**
 * DIGEST-MD5 users from a JAAS login configuration, the file ZooKeeper reads them from
 * (-Djava.security.auth.login.config; zablab.sasl.jaasFile here). As ZooKeeper's
 * SaslServerCallbackHandler does, every `user_<name>="<password>"` option of every login
 * module in the section (sasl.serverconfig, default `Server`) is a user:
 *
 *   Server {
 *     org.apache.zookeeper.server.auth.DigestLoginModule required
 *     user_super="adminsecret"
 *     user_bob="bobsecret";
 *   };
 *
 * The syntax is Java's ConfigFile: `Name { Module Flag key=value ...; ... };`, `//` and
 * `/* *\/` comments, values quoted (with backslash escapes) or bare words. Syntax errors give
 * the line and never echo option names or values: a slip in quoting can put a password anywhere.
 */

export class JaasSyntaxError extends Error {
  readonly code = 'ZABLAB_JAAS_SYNTAX';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
    this.name = 'JaasSyntaxError';
  }
}

/** One login module line of a section. */
export interface JaasModule {
  className: string;
  flag: string;
  options: Map<string, string>;
}

/** Users a DIGEST-MD5 server may authenticate: name → password. */
export type SaslUsers = ReadonlyMap<string, string>;

const FLAGS = new Set(['required', 'requisite', 'sufficient', 'optional']);
const USER_PREFIX = 'user_';
/** A JAAS file is a page of text; bounds keep a mistaken one from costing much. */
export const JAAS_USERS_MAX = 10_000;

type Token = { kind: 'word' | 'string' | 'punct'; text: string; line: number };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end === -1) throw new JaasSyntaxError('a /* comment is not closed', line);
      for (let j = i; j < end; j++) if (text[j] === '\n') line++;
      i = end + 2;
    } else if (c === '"') {
      const start = line;
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new JaasSyntaxError('a quoted value is not closed', start);
        const d = text[i]!;
        if (d === '"') break;
        if (d === '\n') line++;
        if (d === '\\' && i + 1 < text.length) {
          const e = text[++i]!;
          value += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
        } else {
          value += d;
        }
        i++;
      }
      i++;
      out.push({ kind: 'string', text: value, line: start });
    } else if ('{};='.includes(c)) {
      out.push({ kind: 'punct', text: c, line });
      i++;
    } else {
      let j = i;
      while (j < text.length && !/[\s{};="]/.test(text[j]!)) j++;
      out.push({ kind: 'word', text: text.slice(i, j), line });
      i = j;
    }
  }
  return out;
}

/** A token for a message: punctuation as it is, never the text of a word or value. */
function shown(t: Token): string {
  return t.kind === 'punct' ? `"${t.text}"` : t.kind === 'word' ? 'a word' : 'a quoted value';
}

/** Every section of a JAAS file, by name (a name given twice is an error: Java would merge them). */
export function parseJaas(text: string): Map<string, JaasModule[]> {
  const tokens = tokenize(text);
  let k = 0;
  const lastLine = (): number => tokens[tokens.length - 1]?.line ?? 1;
  const next = (what: string): Token => {
    const t = tokens[k++];
    if (t === undefined) throw new JaasSyntaxError(`the file ends where ${what} should be`, lastLine());
    return t;
  };
  const expect = (punct: string, what: string): void => {
    const t = next(what);
    if (t.kind !== 'punct' || t.text !== punct) throw new JaasSyntaxError(`expected "${punct}" (${what}), found ${shown(t)}`, t.line);
  };
  const sections = new Map<string, JaasModule[]>();
  while (k < tokens.length) {
    const name = next('a section name');
    if (name.kind !== 'word') throw new JaasSyntaxError(`expected a section name, found ${shown(name)}`, name.line);
    if (sections.has(name.text)) throw new JaasSyntaxError(`section ${name.text} is given twice`, name.line);
    expect('{', `after ${name.text}`);
    const modules: JaasModule[] = [];
    for (;;) {
      const t = next(`a login module or "}" in ${name.text}`);
      if (t.kind === 'punct' && t.text === '}') break;
      if (t.kind !== 'word') throw new JaasSyntaxError(`expected a login module class, found ${shown(t)}`, t.line);
      const flag = next('a control flag');
      if (flag.kind !== 'word' || !FLAGS.has(flag.text.toLowerCase())) {
        throw new JaasSyntaxError('expected a control flag (required, requisite, sufficient or optional) after the login module class', flag.line);
      }
      const options = new Map<string, string>();
      for (;;) {
        const o = next('an option or ";"');
        if (o.kind === 'punct' && o.text === ';') break;
        if (o.kind !== 'word') throw new JaasSyntaxError(`expected an option name, found ${shown(o)}`, o.line);
        expect('=', 'after an option name');
        const v = next("an option's value");
        if (v.kind === 'punct') throw new JaasSyntaxError(`expected an option's value, found ${shown(v)}`, v.line);
        if (options.has(o.text)) throw new JaasSyntaxError('an option is given twice in one login module', o.line);
        options.set(o.text, v.text);
      }
      modules.push({ className: t.text, flag: flag.text.toLowerCase(), options });
    }
    expect(';', `after the } of ${name.text}`);
    sections.set(name.text, modules);
  }
  return sections;
}

/**
 * The users of `section`; a string saying what is wrong when there are none, or when a name
 * would not become the same sasl id as in ZooKeeper.
 */
export function saslUsersOf(sections: Map<string, JaasModule[]>, section: string): SaslUsers | string {
  const modules = sections.get(section);
  if (modules === undefined) {
    const found = [...sections.keys()];
    return `has no section named ${section}${found.length === 0 ? '' : ` (it has ${found.join(', ')})`}; add one, or name it with sasl.serverconfig`;
  }
  const users = new Map<string, string>();
  for (const m of modules) {
    for (const [key, password] of m.options) {
      if (!key.startsWith(USER_PREFIX)) continue;
      const name = key.slice(USER_PREFIX.length);
      if (name === '') return `has an option "${USER_PREFIX}" without a user name in section ${section}`;
      // ZooKeeper maps such names through Kerberos auth_to_local rules; zablab does not.
      if (name.includes('@')) return `has user ${name} in section ${section}: names with '@' are Kerberos principals, which zablab does not map; use a plain name`;
      if (password === '') return `has an empty password for user ${name} in section ${section}`;
      users.set(name, password);
      if (users.size > JAAS_USERS_MAX) return `has more than ${JAAS_USERS_MAX} users in section ${section}`;
    }
  }
  if (users.size === 0) return `has no user_<name>="<password>" option in section ${section}; DIGEST-MD5 needs at least one user`;
  return users;
}

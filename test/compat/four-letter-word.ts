/** Sends one four-letter word on a client port and returns everything the server answers. */
import net from 'node:net';

const ANSWER_MAX_BYTES = 4 << 20;

export class FourLetterWordError extends Error {
  constructor(word: string, host: string, port: number, why: string) {
    super(`four-letter word '${word}' to ${host}:${port} failed: ${why}`);
    this.name = 'FourLetterWordError';
  }
}

/** The server answers and closes the connection; an empty string means it closed without answering. */
export function fourLetterWord(host: string, port: number, word: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const socket = net.connect({ host, port });
    const fail = (why: string): void => {
      socket.destroy();
      reject(new FourLetterWordError(word, host, port, why));
    };
    const timer = setTimeout(() => fail(`no end of answer within ${timeoutMs} ms`), timeoutMs);
    socket.on('connect', () => socket.write(word));
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > ANSWER_MAX_BYTES) fail(`answer longer than ${ANSWER_MAX_BYTES} bytes`);
      else chunks.push(chunk);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // A server may reset rather than close once it has answered (or refused to).
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') resolve(Buffer.concat(chunks).toString('utf8'));
      else fail(err.message);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** One `mntr` value (`zk_outstanding_requests`, ...) of the server at host:port; undefined when it has none. */
export async function mntr(host: string, port: number, key: string): Promise<string | undefined> {
  const text = await fourLetterWord(host, port, 'mntr');
  return text.split('\n').find((l) => l.startsWith(`${key}\t`))?.split('\t')[1];
}

import fs from 'node:fs';
import net from 'node:net';
import { describe, expect, test } from 'vitest';
import { freePort, freePorts } from '../../helpers/ports.js';
import { waitForServing } from '../../helpers/probe.js';
import { startZooKeeper, zookeeperAvailable } from '../../helpers/zookeeper.js';

describe('ports', () => {
  test('freePorts hands out distinct ports that can be listened on', async () => {
    const ports = await freePorts(8);
    expect(new Set(ports).size).toBe(8);
    const port = await freePort();
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});

describe('probe', () => {
  test('waitForServing fails with a clear message when nothing serves', async () => {
    const port = await freePort();
    await expect(waitForServing('127.0.0.1', port, 300)).rejects.toThrow(/no ZooKeeper session from 127\.0\.0\.1/);
  });

  test('a listener that never answers the handshake is not serving', async () => {
    const server = net.createServer((s) => s.on('data', () => undefined));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      await expect(waitForServing('127.0.0.1', port, 500)).rejects.toThrow(/not serving|no ZooKeeper session/);
    } finally {
      server.close();
    }
  });
});

describe.skipIf(!zookeeperAvailable())('Apache ZooKeeper helper', () => {
  test('starts a standalone server that grants sessions, and stop removes its temp dir', async () => {
    const zk = await startZooKeeper();
    try {
      expect(zk.host).toBe('127.0.0.1');
      expect(zk.connectString).toBe(`127.0.0.1:${zk.port}`);
      expect(fs.readFileSync(`${zk.dataDir}/zoo.cfg`, 'utf8')).toContain('4lw.commands.whitelist=*');
      await waitForServing(zk.host, zk.port, 5_000);
      expect(await fourLetterWord(zk.port, 'ruok')).toBe('imok');
    } finally {
      await zk.stop();
    }
    expect(fs.existsSync(zk.dataDir)).toBe(false);
    await expect(waitForServing(zk.host, zk.port, 300)).rejects.toThrow();
  });
});

if (!zookeeperAvailable()) {
  console.warn('SKIPPED: Apache ZooKeeper is not available (needs java and the zookeeper jars, or ZOOKEEPER_HOME)');
}

function fourLetterWord(port: number, word: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(word));
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (out += d));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
  });
}

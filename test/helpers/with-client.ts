/** Run `fn` with a ZkClient connected to `connectString`, closed afterwards whatever happens. */
import { ZkClient } from '../../src/client/index.js';

export async function withClient<T>(connectString: string, fn: (c: ZkClient) => Promise<T>): Promise<T> {
  const client = await ZkClient.connect({ connectString, connectTimeoutMs: 15_000 });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

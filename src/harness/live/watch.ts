/**
 * `zablab watch`: the live view of an ensemble that `zablab ensemble up` started, read from
 * its DIR/ensemble.json. Each server is asked srvr and mntr on its client port; the spans
 * come from the directory the servers were started with (ZABLAB_SPANS_DIR), if any.
 */
import { memberMetrics, probeSrvr } from '../drivers/probe.js';
import type { Member, MemberMetrics, MemberMode } from '../drivers/types.js';
import { LocalEnsemble } from '../ensemble/index.js';
import type { LiveEnsemble } from './poll.js';

export function watchedEnsemble(dir: string, spansDir: string | null): LiveEnsemble {
  const ensemble = LocalEnsemble.load(dir);
  const members: Member[] = ensemble.servers.map((s) => ({ id: s.id, role: s.role, host: s.host, clientPort: s.clientPort, httpPort: s.httpPort }));
  return {
    members,
    spansDir: spansDir ?? ensemble.spansDir,
    status: (): Promise<{ id: number; mode: MemberMode; zxid: bigint | null }[]> =>
      Promise.all(
        members.map(async (m) => {
          const p = await probeSrvr(m);
          return { id: m.id, mode: p.mode, zxid: p.zxid };
        }),
      ),
    metrics: (id: number): Promise<MemberMetrics> => memberMetrics(members.find((m) => m.id === id)!),
  };
}

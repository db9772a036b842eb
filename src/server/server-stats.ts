/** Request counters and latency, as ZooKeeper's ServerStats keeps them (for srvr/stat/mntr). */
export class ServerStats {
  packetsReceived = 0;
  packetsSent = 0;
  private latencyMinMs = Number.MAX_SAFE_INTEGER;
  private latencyMaxMs = 0;
  private latencyTotalMs = 0;
  private latencyCount = 0;
  /** Connections paused because globalOutstandingLimit was exceeded. */
  throttledOps = 0;
  /** TLS clients refused at the handshake or for their certificate (ZooKeeper's authFailedCount; not reset by srst). */
  authFailed = 0;

  recordLatency(ms: number): void {
    if (ms < this.latencyMinMs) this.latencyMinMs = ms;
    if (ms > this.latencyMaxMs) this.latencyMaxMs = ms;
    this.latencyTotalMs += ms;
    this.latencyCount++;
  }

  get minLatencyMs(): number {
    return this.latencyCount === 0 ? 0 : this.latencyMinMs;
  }
  get maxLatencyMs(): number {
    return this.latencyMaxMs;
  }
  get avgLatencyMs(): number {
    return this.latencyCount === 0 ? 0 : this.latencyTotalMs / this.latencyCount;
  }
  get requestsCompleted(): number {
    return this.latencyCount;
  }

  reset(): void {
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.latencyMinMs = Number.MAX_SAFE_INTEGER;
    this.latencyMaxMs = 0;
    this.latencyTotalMs = 0;
    this.latencyCount = 0;
  }
}

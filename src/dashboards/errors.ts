/** Errors of `zablab dashboards`: a stable code and a message that says what to do. */
export type DashboardsErrorCode = 'ZABLAB_DASHBOARDS_STALE' | 'ZABLAB_DASHBOARDS_WRITE';

export class DashboardsError extends Error {
  constructor(
    readonly code: DashboardsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DashboardsError';
  }
}

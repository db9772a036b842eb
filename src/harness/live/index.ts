/** harness/live: the live view — what a run observes, published on a page served on 127.0.0.1. */
export { LiveState, type LiveSnapshot, type LiveServer as LiveServerRow, type LiveMarker } from './state.js';
export { LivePoller, NO_SPANS_NOTE, type LiveEnsemble } from './poll.js';
export { SpansTail, type Waterfall, type WaterfallSpan } from './waterfall.js';
export { renderRegions, REGIONS } from './render.js';
export { livePage, LIVE_JSON } from './page.js';
export { LiveServer, LIVE_HOST, livePort } from './server.js';
export { LiveError, type LiveErrorCode } from './errors.js';
export { BenchLive } from './bench-live.js';
export { watchedEnsemble } from './watch.js';

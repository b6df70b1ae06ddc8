"""JavaScript run in the pages by the browser tests and the browser benchmark (in-page clocks)."""

# Installed before the page's scripts: epoch ms of each save reply and of each live event received.
INSTRUMENT_JS = """
(() => {
  const now = () => performance.timeOrigin + performance.now();
  window.__saves = [];
  window.__events = [];
  const fetch0 = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const response = await fetch0(input, init);
    const url = typeof input === 'string' ? input : input.url;
    if ((init && init.method) === 'POST' && /\\/api\\/reads\\/\\d+\\/revisions$/.test(url)) {
      window.__saves.push({at: now(), status: response.status});
    }
    return response;
  };
  const WS = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new WS(...args);
    ws.addEventListener('message', (m) => {
      try { window.__events.push({at: now(), type: JSON.parse(m.data).type}); } catch (e) {}
    });
    return ws;
  };
  window.WebSocket.prototype = WS.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})();
"""

# {p: a promise of the epoch ms at which the side panel lists `count` shapes} (wrapped, so that
# evaluate_handle returns at once instead of awaiting it).
WAIT_ROWS_JS = """(count) => ({p: new Promise((resolve) => {
  const rows = () => document.querySelectorAll('[data-testid=shape-row]').length;
  const done = () => resolve(performance.timeOrigin + performance.now());
  if (rows() === count) return done();
  const observer = new MutationObserver(() => {
    if (rows() === count) { observer.disconnect(); done(); }
  });
  observer.observe(document.querySelector('[data-testid=sidepanel]'),
                   {childList: true, subtree: true});
})})"""

# Installed before the page's scripts (browser benchmark): every animation-frame callback's frame
# time, how long it ran and whether it re-windowed a slice (a putImageData: a window/level or
# slice change); and when a viewport canvas first said it shows its slice (ms since navigation).
FRAME_CLOCK_JS = """
(() => {
  window.__frames = [];
  window.__firstImageAt = null;
  let windowed = false;
  const put = CanvasRenderingContext2D.prototype.putImageData;
  CanvasRenderingContext2D.prototype.putImageData = function (...args) {
    windowed = true;
    return put.apply(this, args);
  };
  const raf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (callback) => raf((time) => {
    windowed = false;
    const t0 = performance.now();
    try {
      callback(time);
    } finally {
      const t1 = performance.now();
      window.__frames.push({at: time, ms: t1 - t0, windowed});
      if (window.__firstImageAt === null && document.querySelector('canvas[data-state=ready]')) {
        window.__firstImageAt = t1;
      }
    }
  });
})();
"""

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

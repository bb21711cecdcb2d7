/**
 * The dashboard's script, run by the browser: every second it fetches `stats` and `ring` (beside
 * the page, so a mounted `adminHandler` works under any prefix), computes rates from successive
 * samples, and redraws. Plain ES2020 without template literals, so it sits in this string as
 * written; the page's tests run it in a real Chromium.
 *
 * @module
 */

/** The script, inlined in the page (its SHA-256 is in the page's Content-Security-Policy). */
export const DASHBOARD_SCRIPT = `
(function () {
  'use strict';
  var POLL_MS = 1000;
  var RETRY_MS = 2000;
  var TIMEOUT_MS = 5000;
  var HISTORY_MS = 5 * 60 * 1000;
  var SECRET_KEY = 'burrow.dashboard.secret';
  var SVG_NS = 'http://www.w3.org/2000/svg';

  var previous = null;
  var histories = {};
  var panels = {};
  var eventsShown = '';
  var paused = false;
  var timer = 0;
  var busy = false;
  var memorySecret = '';

  function byId(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    fill(e, attrs, children);
    return e;
  }

  function svgEl(tag, attrs, children) {
    var e = document.createElementNS(SVG_NS, tag);
    fill(e, attrs, children);
    return e;
  }

  function fill(e, attrs, children) {
    for (var k in attrs || {}) {
      if (k === 'text') e.textContent = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
  }

  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }

  function num(v, digits) {
    return v === null || v === undefined || !isFinite(v) ? '—' : v.toLocaleString('en', { maximumFractionDigits: digits || 0 });
  }

  function pct(v) { return v === null || v === undefined || !isFinite(v) ? '—' : (v * 100).toFixed(1) + ' %'; }

  function bytes(b) {
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
    return (i === 0 ? String(b) : b.toFixed(1)) + ' ' + units[i];
  }

  function clock(ms) { return new Date(ms).toLocaleTimeString('en-GB', { hour12: false }); }

  function secret() {
    try { return sessionStorage.getItem(SECRET_KEY) || ''; } catch (e) { return memorySecret; }
  }

  function setSecret(value) {
    memorySecret = value;
    try {
      if (value) sessionStorage.setItem(SECRET_KEY, value);
      else sessionStorage.removeItem(SECRET_KEY);
    } catch (e) { /* storage refused: kept in memory only */ }
    byId('forget').hidden = !value;
  }

  function status(text, state) {
    var s = byId('status');
    s.textContent = text;
    s.setAttribute('data-state', state);
    s.className = state === 'live' || state === 'paused' ? '' : 'error';
  }

  function get(path) {
    var headers = {};
    var s = secret();
    if (s) headers.authorization = 'Bearer ' + s;
    return fetch(path, { headers: headers, cache: 'no-store', credentials: 'omit', redirect: 'error', signal: AbortSignal.timeout(TIMEOUT_MS) })
      .then(function (res) {
        if (res.status === 401) {
          var err = new Error('unauthorized');
          err.status = 401;
          throw err;
        }
        if (!res.ok) throw new Error(path + ' answered HTTP ' + res.status);
        return res.json();
      });
  }

  function schedule(ms) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(tick, ms);
  }

  function tick() {
    timer = 0;
    if (busy || paused || document.hidden) return;
    busy = true;
    Promise.all([get('stats'), get('ring'), get('hot-keys')]).then(function (r) {
      busy = false;
      byId('auth').hidden = true;
      render(r[0], r[1], r[2], Date.now());
      if (paused) status('Paused', 'paused');
      else status('Live · updated ' + clock(Date.now()) + ' · every ' + POLL_MS / 1000 + ' s', 'live');
      schedule(POLL_MS);
    }, function (err) {
      busy = false;
      if (err.status === 401) {
        byId('auth').hidden = false;
        status(secret()
          ? 'Unauthorized (401): the node refused this secret. Enter its current secret below.'
          : 'Unauthorized (401): this node has auth set. Enter its secret below to see its figures.', 'unauthorized');
        byId('secret').focus();
        return;
      }
      var why = err.name === 'TimeoutError' ? 'no answer within ' + TIMEOUT_MS / 1000 + ' s' : err.message;
      status('Cannot reach the node (' + why + '); retrying every ' + RETRY_MS / 1000 + ' s.', 'error');
      schedule(RETRY_MS);
    });
  }

  function render(stats, ring, hot, t) {
    byId('self').textContent = stats.self;
    document.title = 'burrow ' + stats.self;
    renderRing(ring);
    renderNode(stats, t);
    renderNamespaces(stats, hot, t);
    renderEvents(ring.events);
    previous = { t: t, stats: stats };
  }

  function point(angle, r) { return (r * Math.cos(angle)).toFixed(2) + ' ' + (r * Math.sin(angle)).toFixed(2); }

  // A slice of the donut, in two halves so that a whole turn (one peer) still draws.
  function slice(a0, a1, r, r0) {
    var mid = (a0 + a1) / 2;
    return 'M ' + point(a0, r) + ' A ' + r + ' ' + r + ' 0 0 1 ' + point(mid, r) + ' A ' + r + ' ' + r + ' 0 0 1 ' + point(a1, r) +
      ' L ' + point(a1, r0) + ' A ' + r0 + ' ' + r0 + ' 0 0 0 ' + point(mid, r0) + ' A ' + r0 + ' ' + r0 + ' 0 0 0 ' + point(a0, r0) + ' Z';
  }

  function renderRing(ring) {
    var svg = byId('ring-chart');
    var desc = byId('ring-desc');
    clear(svg);
    svg.appendChild(desc);
    var angle = -Math.PI / 2;
    var words = [];
    ring.peers.forEach(function (p, i) {
      var end = angle + p.share * 2 * Math.PI;
      var label = '#' + (i + 1) + ' ' + p.peer + (p.peer === ring.self ? ' (this node)' : '') + ': ' + pct(p.share);
      words.push(label);
      var path = svgEl('path', { d: slice(angle, end, 100, 58), class: 's' + (i % 8) }, [svgEl('title', { text: label })]);
      svg.appendChild(path);
      if (p.share > 0.04) {
        var mid = (angle + end) / 2;
        svg.appendChild(svgEl('text', { x: (79 * Math.cos(mid)).toFixed(1), y: (79 * Math.sin(mid)).toFixed(1), 'aria-hidden': 'true', text: String(i + 1) }));
      }
      angle = end;
    });
    svg.appendChild(svgEl('text', { x: 0, y: 0, class: 'center', 'aria-hidden': 'true', text: ring.peers.length + (ring.peers.length === 1 ? ' peer' : ' peers') }));
    desc.textContent = 'Ring of ' + ring.peers.length + ' peers. ' + words.join('; ') + (ring.down.length ? '. Down: ' + ring.down.join(', ') : '');

    var body = byId('ring-table').tBodies[0];
    clear(body);
    ring.peers.forEach(function (p, i) {
      body.appendChild(el('tr', { 'data-peer': p.peer, 'data-share': String(p.share) }, [
        el('td', { text: String(i + 1) }),
        el('td', { class: 'peer' }, [el('span', { class: 'swatch s' + (i % 8), 'aria-hidden': 'true' }), p.peer + (p.peer === ring.self ? ' (this node)' : '')]),
        el('td', { class: 'num', text: pct(p.share) }),
        el('td', { text: 'up' })
      ]));
    });
    ring.down.forEach(function (peer) {
      body.appendChild(el('tr', { 'data-peer': peer, 'data-down': 'true' }, [
        el('td', { text: '–' }), el('td', { class: 'peer', text: peer }), el('td', { class: 'num', text: '0 %' }), el('td', { text: 'down: off the ring' })
      ]));
    });
    var layout = ring.ring === 'maglev'
      ? 'Maglev table of ' + num(ring.table) + ' slots'
      : 'groupcache ring, ' + ring.replicas + ' virtual nodes per peer';
    byId('ring-layout').textContent = layout + ', hash ' + ring.hash + '; ' + num(ring.changes) + ' ring changes since this node started.';
  }

  function rateOf(cur, prev, dt) {
    if (prev === undefined || dt <= 0) return null;
    var d = cur - prev;
    return d < 0 ? null : d / dt;
  }

  function figure(dl, key, label, value, text, warn) {
    var dd = dl.querySelector('dd[data-figure="' + key + '"]');
    if (!dd) {
      dd = el('dd', { 'data-figure': key });
      dl.appendChild(el('div', {}, [el('dt', { text: label }), dd]));
    }
    dd.textContent = text;
    dd.setAttribute('data-value', value === null || value === undefined ? '' : String(value));
    dd.className = warn ? 'warn' : '';
  }

  function renderNode(stats, t) {
    var dl = byId('node-figures');
    var prev = previous && previous.stats;
    var dt = previous ? (t - previous.t) / 1000 : 0;
    var requests = prev ? rateOf(stats.peerClient.requests, prev.peerClient.requests, dt) : null;
    figure(dl, 'peers', 'peers on the ring', stats.peers.length, num(stats.peers.length));
    figure(dl, 'down', 'peers down', stats.down.length, stats.down.length ? stats.down.join(', ') : '0', stats.down.length > 0);
    figure(dl, 'loads-running', 'loads running / queued', stats.loads.running, num(stats.loads.running) + ' / ' + num(stats.loads.queued), stats.loads.queued > 0);
    figure(dl, 'overloaded', 'loads refused (overload)', stats.loads.overloaded, num(stats.loads.overloaded), stats.loads.overloaded > 0);
    figure(dl, 'peer-requests', 'requests to peers/s', requests, num(requests, 1));
    figure(dl, 'peer-failures', 'peer timeouts / failures', stats.peerClient.timeouts + stats.peerClient.failures,
      num(stats.peerClient.timeouts) + ' / ' + num(stats.peerClient.failures));
    figure(dl, 'connections', 'connections in / out', stats.server.connections,
      num(stats.server.connections) + ' / ' + num(stats.peerClient.connectionsOpen));
    figure(dl, 'owed-purges', 'purges owed to peers', stats.owedPurges, num(stats.owedPurges), stats.owedPurges > 0);
  }

  var CHARTS = [
    { key: 'gets', label: 'gets/s', cls: 's0' },
    { key: 'hit', label: 'hit ratio', cls: 's2', max: 1, ratio: true },
    { key: 'loads', label: 'loads/s (loader calls here)', cls: 's1' },
    { key: 'errors', label: 'peer errors/s', cls: 's7' }
  ];

  function panel(name) {
    if (panels[name]) return panels[name];
    var list = byId('ns-list');
    if (!list.querySelector('article')) clear(list);
    var charts = el('div', { class: 'charts' });
    var p = { figures: el('dl', { class: 'figures' }), charts: {}, cache: {}, admission: {}, hot: el('ol', { class: 'hot-keys' }) };
    CHARTS.forEach(function (c) {
      var svg = svgEl('svg', { class: 'line', viewBox: '0 0 300 60', preserveAspectRatio: 'none', role: 'img' });
      var caption = el('figcaption', { text: c.label });
      charts.appendChild(el('figure', { 'data-chart': c.key }, [caption, svg]));
      p.charts[c.key] = { svg: svg, caption: caption };
    });
    p.cache.svg = svgEl('svg', { class: 'bar', viewBox: '0 0 300 20', preserveAspectRatio: 'none', role: 'img' });
    p.cache.text = el('p', { class: 'note' });
    p.admission.svg = svgEl('svg', { class: 'bar', viewBox: '0 0 300 20', preserveAspectRatio: 'none', role: 'img' });
    p.admission.text = el('p', { class: 'note' });
    var bars = el('div', { class: 'bars' }, [
      el('div', {}, [el('h4', { text: 'Cache' }), p.cache.svg, p.cache.text]),
      el('div', {}, [el('h4', { text: 'Admission' }), p.admission.svg, p.admission.text]),
      el('div', {}, [el('h4', { text: 'Hot keys (asked for most lately, held here)' }), p.hot])
    ]);
    list.appendChild(el('article', { class: 'ns', 'data-namespace': name }, [el('h3', { text: name }), p.figures, charts, bars]));
    panels[name] = p;
    return p;
  }

  function renderNamespaces(stats, hot, t) {
    var dt = previous ? (t - previous.t) / 1000 : 0;
    Object.keys(stats.namespaces).sort().forEach(function (name) {
      var ns = stats.namespaces[name];
      var before = previous && previous.stats.namespaces[name];
      var dGets = before ? ns.gets - before.gets : 0;
      var sample = {
        t: t,
        gets: before ? rateOf(ns.gets, before.gets, dt) : null,
        hit: before && dGets > 0 ? (ns.hits - before.hits) / dGets : null,
        loads: before ? rateOf(ns.localLoads, before.localLoads, dt) : null,
        errors: before ? rateOf(ns.peerErrors, before.peerErrors, dt) : null,
        rejections: before ? rateOf(ns.admission.rejections, before.admission.rejections, dt) : null
      };
      var history = histories[name] || (histories[name] = []);
      history.push(sample);
      while (history.length && history[0].t < t - HISTORY_MS) history.shift();

      var p = panel(name);
      var total = ns.gets > 0 ? ns.hits / ns.gets : null;
      figure(p.figures, 'gets-rate', 'gets/s', sample.gets, num(sample.gets, 1));
      figure(p.figures, 'gets-total', 'gets (total)', ns.gets, num(ns.gets));
      figure(p.figures, 'hit-ratio', 'hit ratio (now · all time)', sample.hit === null ? total : sample.hit, pct(sample.hit) + ' · ' + pct(total));
      figure(p.figures, 'loads-rate', 'loads/s', sample.loads, num(sample.loads, 1));
      figure(p.figures, 'peer-errors-rate', 'peer errors/s', sample.errors, num(sample.errors, 1), sample.errors > 0);
      figure(p.figures, 'fallbacks', 'fallback loads (total)', ns.fallbackLoads, num(ns.fallbackLoads), ns.fallbackLoads > 0);
      CHARTS.forEach(function (c) { drawLine(p.charts[c.key], history, c, t); });
      drawCache(p.cache, ns);
      drawAdmission(p.admission, ns, sample.rejections);
      drawHotKeys(p.hot, hot[name] || []);
    });
  }

  function drawLine(chart, history, c, t) {
    var svg = chart.svg;
    clear(svg);
    var peak = 0;
    var last = null;
    history.forEach(function (s) { var v = s[c.key]; if (v !== null) { peak = Math.max(peak, v); last = v; } });
    var top = c.max || (peak > 0 ? peak * 1.1 : 1);
    // The x axis spans what has been sampled, from 30 s up to the whole history.
    var span = Math.max(30000, Math.min(HISTORY_MS, history.length ? t - history[0].t : 0));
    svg.appendChild(svgEl('line', { x1: 0, y1: 59.5, x2: 300, y2: 59.5, class: 'track' }));
    var run = [];
    function flush() {
      if (run.length > 1) svg.appendChild(svgEl('polyline', { points: run.join(' '), class: c.cls }));
      run = [];
    }
    history.forEach(function (s) {
      var v = s[c.key];
      if (v === null) return flush();
      var x = 300 - ((t - s.t) / span) * 300;
      run.push(x.toFixed(1) + ',' + (58 - (Math.min(v, top) / top) * 54).toFixed(1));
    });
    flush();
    var show = c.ratio ? pct : function (v) { return num(v, 1); };
    var words = c.label + ': now ' + show(last) + ', peak ' + show(peak) + ' over the last ' + Math.round(span / 1000) + ' s';
    svg.setAttribute('aria-label', words);
    chart.caption.textContent = c.label + ' — now ' + show(last) + ' · peak ' + show(peak);
  }

  function drawBar(svg, parts, max, marker) {
    clear(svg);
    svg.appendChild(svgEl('rect', { x: 0, y: 2, width: 300, height: 16, class: 'track' }));
    var x = 0;
    parts.forEach(function (part) {
      var w = max > 0 ? Math.min(300 - x, (part.value / max) * 300) : 0;
      if (w > 0) svg.appendChild(svgEl('rect', { x: x.toFixed(2), y: 2, width: w.toFixed(2), height: 16, class: part.cls }));
      x += w;
    });
    if (marker !== undefined) svg.appendChild(svgEl('rect', { x: Math.max(0, Math.min(299, marker * 300 - 1)).toFixed(2), y: 0, width: 2, height: 20, class: 's3' }));
  }

  function swatch(cls) { return el('span', { class: 'swatch ' + cls, 'aria-hidden': 'true' }); }

  function drawCache(box, ns) {
    var used = ns.main.bytes + ns.hot.bytes;
    drawBar(box.svg, [{ value: ns.main.bytes, cls: 's0' }, { value: ns.hot.bytes, cls: 's1' }], ns.maxBytes);
    var words = bytes(used) + ' of ' + bytes(ns.maxBytes) + ' (' + pct(ns.maxBytes > 0 ? used / ns.maxBytes : 0) + ')';
    box.svg.setAttribute('aria-label', 'Cache bytes: ' + words);
    clear(box.text);
    fill(box.text, { 'data-used': String(used), 'data-max': String(ns.maxBytes) }, [
      words + ': ', swatch('s0'), 'main ' + bytes(ns.main.bytes) + ', ' + num(ns.main.items) + ' entries, ' + num(ns.main.evictions) + ' evicted · ',
      swatch('s1'), 'hot (copies of other nodes’ keys) ' + bytes(ns.hot.bytes) + ', ' + num(ns.hot.items) + ' entries, ' + num(ns.hot.evictions) + ' evicted'
    ]);
  }

  function drawHotKeys(list, keys) {
    clear(list);
    if (keys.length === 0) {
      list.appendChild(el('li', { class: 'note', text: 'none yet: no key held here was asked for twice' }));
      return;
    }
    keys.forEach(function (k) {
      list.appendChild(el('li', { 'data-key': k.key, 'data-asks': String(k.asks) }, [
        el('code', { text: k.key }), ' · ' + num(k.asks) + (k.asks >= 63 ? '+' : '') + ' asks' + (k.part === 'hot' ? ' · hot copy' : '')
      ]));
    });
  }

  function drawAdmission(box, ns, rejectionRate) {
    var a = ns.admission;
    clear(box.text);
    if (a.policy !== 'tinylfu') {
      drawBar(box.svg, [], 1);
      box.svg.setAttribute('aria-label', 'Policy ' + a.policy + ': no admission filter');
      box.text.textContent = 'Policy ' + a.policy + ': every new entry is admitted; the least recently used leave first.';
      return;
    }
    drawBar(box.svg, [
      { value: a.windowBytes, cls: 's2' }, { value: a.probationBytes, cls: 's5' }, { value: a.protectedBytes, cls: 's6' }
    ], ns.maxBytes, a.windowShare);
    box.svg.setAttribute('aria-label', 'W-TinyLFU segments of maxBytes; window share ' + pct(a.windowShare));
    fill(box.text, { 'data-window-share': String(a.windowShare), 'data-rejections': String(a.rejections) }, [
      'W-TinyLFU: window share ' + pct(a.windowShare) + ' (the mark), rejections ' + num(a.rejections) + ' (' + num(rejectionRate, 1) + '/s). ',
      swatch('s2'), 'window ' + bytes(a.windowBytes) + ' · ', swatch('s5'), 'probation ' + bytes(a.probationBytes) + ' · ',
      swatch('s6'), 'protected ' + bytes(a.protectedBytes) + '; sketch ' + bytes(a.sketchBytes) + ' outside maxBytes.'
    ]);
  }

  function describe(e) {
    if (e.type === 'listen') return { kind: 'started', cls: '', text: 'listening, ' + e.peers.length + (e.peers.length === 1 ? ' peer' : ' peers') + ' on the ring' };
    if (e.type === 'ring') {
      var parts = [];
      if (e.added.length) parts.push('added ' + e.added.join(', '));
      if (e.removed.length) parts.push('removed ' + e.removed.join(', '));
      return { kind: 'ring changed', cls: '', text: e.peers + ' peers' + (parts.length ? ': ' + parts.join('; ') : '') };
    }
    if (e.type === 'peer.down') return { kind: '▼ peer down', cls: 'down', text: e.peer + (e.reason === 'left' ? ' (left: it said it leaves)' : ' (unreachable: failed its probes)') };
    if (e.type === 'peer.up') return { kind: '▲ peer back', cls: 'up', text: e.peer };
    return { kind: e.type, cls: '', text: '' };
  }

  function renderEvents(events) {
    var key = events.length + ':' + JSON.stringify(events[events.length - 1] || null);
    if (key === eventsShown) return;
    eventsShown = key;
    var list = byId('event-list');
    clear(list);
    for (var i = events.length - 1; i >= 0; i--) {
      var e = events[i];
      var d = describe(e);
      list.appendChild(el('li', { 'data-type': e.type, 'data-peer': e.peer || '' }, [
        el('time', { datetime: new Date(e.at).toISOString(), text: clock(e.at) }),
        el('span', { class: 'kind ' + d.cls, text: d.kind }),
        d.text
      ]));
    }
  }

  byId('auth').addEventListener('submit', function (event) {
    event.preventDefault();
    var input = byId('secret');
    setSecret(input.value);
    input.value = '';
    byId('auth').hidden = true;
    status('Connecting…', 'live');
    schedule(0);
  });

  byId('forget').addEventListener('click', function () {
    setSecret('');
    schedule(0);
  });

  byId('pause').addEventListener('click', function () {
    paused = !paused;
    var button = byId('pause');
    button.textContent = paused ? 'Resume' : 'Pause';
    button.setAttribute('aria-pressed', String(paused));
    if (paused) status('Paused', 'paused');
    else schedule(0);
  });

  document.addEventListener('visibilitychange', function () {
    if (document.hidden) status('Paused while the tab is hidden', 'paused');
    else if (!paused) schedule(0);
  });

  byId('forget').hidden = !secret();
  schedule(0);
})();
`

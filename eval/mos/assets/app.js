/* MOS rating page: one rater's trials, progress in localStorage, signed answer export.
 * Reads its data from <script id="study-data" type="application/json">; every text goes through
 * textContent (never innerHTML). No network access except an optional POST to ./submit when the
 * page is served by `python -m eval.mos serve`. */
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('study-data').textContent);
  var KEY = 'mos:' + D.study + ':' + D.rater;
  var CRIT = D.criteria;
  var root = document.getElementById('app');

  // ---------------------------------------------------------------- SHA-256 / HMAC (FIPS 180-4, RFC 2104)
  var K256 = [0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1,
    0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d,
    0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
    0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3,
    0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb,
    0xbef9a3f7, 0xc67178f2];
  function sha256(bytes) {
    var h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    var n = bytes.length, total = ((n + 9 + 63) >> 6) << 6, m = new Uint8Array(total);
    m.set(bytes); m[n] = 0x80;
    var bits = n * 8;
    m[total - 4] = (bits >>> 24) & 255; m[total - 3] = (bits >>> 16) & 255; m[total - 2] = (bits >>> 8) & 255; m[total - 1] = bits & 255;
    m[total - 5] = Math.floor(bits / 4294967296) & 255;
    var w = new Array(64);
    for (var off = 0; off < total; off += 64) {
      for (var i = 0; i < 16; i++) w[i] = (m[off + 4 * i] << 24) | (m[off + 4 * i + 1] << 16) | (m[off + 4 * i + 2] << 8) | m[off + 4 * i + 3];
      for (i = 16; i < 64; i++) {
        var a = w[i - 15], b = w[i - 2];
        var s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
        var s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
      }
      var A = h[0], B = h[1], C = h[2], Dd = h[3], E = h[4], F = h[5], G = h[6], H = h[7];
      for (i = 0; i < 64; i++) {
        var S1 = ((E >>> 6) | (E << 26)) ^ ((E >>> 11) | (E << 21)) ^ ((E >>> 25) | (E << 7));
        var t1 = (H + S1 + ((E & F) ^ (~E & G)) + K256[i] + w[i]) | 0;
        var S0 = ((A >>> 2) | (A << 30)) ^ ((A >>> 13) | (A << 19)) ^ ((A >>> 22) | (A << 10));
        var t2 = (S0 + ((A & B) ^ (A & C) ^ (B & C))) | 0;
        H = G; G = F; F = E; E = (Dd + t1) | 0; Dd = C; C = B; B = A; A = (t1 + t2) | 0;
      }
      h[0] = (h[0] + A) | 0; h[1] = (h[1] + B) | 0; h[2] = (h[2] + C) | 0; h[3] = (h[3] + Dd) | 0;
      h[4] = (h[4] + E) | 0; h[5] = (h[5] + F) | 0; h[6] = (h[6] + G) | 0; h[7] = (h[7] + H) | 0;
    }
    var out = new Uint8Array(32);
    for (i = 0; i < 8; i++) { out[4 * i] = h[i] >>> 24; out[4 * i + 1] = (h[i] >>> 16) & 255; out[4 * i + 2] = (h[i] >>> 8) & 255; out[4 * i + 3] = h[i] & 255; }
    return out;
  }
  function utf8(s) { return new TextEncoder().encode(s); }
  function hex(b) { var s = ''; for (var i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16); return s; }
  function hmacHex(key, msg) {
    var k = utf8(key);
    if (k.length > 64) k = sha256(k);
    var ipad = new Uint8Array(64 + msg.length), opad = new Uint8Array(96);
    for (var i = 0; i < 64; i++) { var x = i < k.length ? k[i] : 0; ipad[i] = x ^ 0x36; opad[i] = x ^ 0x5c; }
    ipad.set(msg, 64);
    opad.set(sha256(ipad), 64);
    return hex(sha256(opad));
  }
  // canonical JSON: sorted keys, no spaces (Python: json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False))
  function canon(v) {
    if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']';
    if (v !== null && typeof v === 'object') return '{' + Object.keys(v).sort().map(function (k) { return JSON.stringify(k) + ':' + canon(v[k]); }).join(',') + '}';
    return JSON.stringify(v);
  }

  // ---------------------------------------------------------------- state (localStorage)
  function fresh() { return { v: 1, step: 'intro', i: 0, answers: [], cur: blank(), started_ms: Date.now() }; }
  function blank() { var c = {}; CRIT.forEach(function (k) { c[k] = null; }); return c; }
  function load() {
    try { var s = JSON.parse(localStorage.getItem(KEY)); if (s && s.v === 1) return s; } catch (e) { /* unreadable: start over */ }
    return null;
  }
  var S = load() || fresh();
  function save() { try { localStorage.setItem(KEY, JSON.stringify(S)); } catch (e) { note('Progress could not be saved in this browser: ' + e); } }

  // ---------------------------------------------------------------- DOM helpers (text only)
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { if (k === 'text') e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]); });
    (kids || []).forEach(function (c) { e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function clear() { while (root.firstChild) root.removeChild(root.firstChild); }
  var statusEl = null;
  function note(t) { if (statusEl) statusEl.textContent = t; }

  function anchorsTable() {
    var t = el('table', { 'class': 'anchors' });
    t.appendChild(el('tr', {}, [el('th', { text: 'Score' })].concat(CRIT.map(function (k) { return el('th', { text: D.questions[k] }); }))));
    for (var s = 5; s >= 1; s--) {
      t.appendChild(el('tr', {}, [el('td', { text: String(s) })].concat(CRIT.map(function (k) { return el('td', { text: D.anchors[k][s - 1] }); }))));
    }
    return t;
  }

  // ---------------------------------------------------------------- screens
  function intro() {
    clear();
    root.appendChild(el('h1', { text: D.title }));
    D.instructions.forEach(function (p) { root.appendChild(el('p', { text: p })); });
    root.appendChild(anchorsTable());
    root.appendChild(el('p', { 'class': 'help', text: D.keys_help }));
    var b = el('button', { id: 'start', text: 'Start' });
    b.addEventListener('click', function () { S.step = 'trial'; save(); trial(); });
    root.appendChild(el('div', { 'class': 'controls' }, [b]));
  }

  var play = null;  // playback of the current trial (not persisted: a reload means watching it again)
  var active = 0;

  function trial() {
    if (S.i >= D.trials.length) { S.step = 'done'; save(); done(); return; }
    clear();
    var t = D.trials[S.i];
    var nTrain = D.trials.filter(function (x) { return x.training; }).length;
    play = { played: 0, last: 0, ended: false, plays: 0, duration: 0, shown: Date.now() };
    active = CRIT.findIndex(function (k) { return S.cur[k] === null; });
    if (active < 0) active = 0;
    var head = t.training ? 'Practice ' + (S.i + 1) + ' of ' + nTrain : 'Video ' + (S.i + 1 - nTrain) + ' of ' + (D.trials.length - nTrain);
    root.appendChild(el('h1', { id: 'trial-title', text: head }));
    if (t.training) root.appendChild(el('span', { 'class': 'badge', text: 'Practice: not scored' }));
    var fill = el('div', {});
    fill.style.width = Math.round(100 * S.i / D.trials.length) + '%';
    var bar = el('div', { 'class': 'progress' }, [fill]);
    root.appendChild(bar);
    var video = el('video', { id: 'video', preload: 'auto', playsinline: '' });
    video.src = t.video;
    var left = el('div', {}, [video, el('p', { 'class': 'transcript', id: 'transcript', text: t.text ? 'Text: \u201c' + t.text + '\u201d' : '' })]);
    var qs = el('div', { id: 'questions' });
    CRIT.forEach(function (k, qi) {
      var row = el('div', { 'class': 'scale' });
      for (var s = 1; s <= 5; s++) {
        var b = el('button', { type: 'button', 'data-q': k, 'data-s': String(s), title: D.anchors[k][s - 1] },
          [el('span', { 'class': 'n', text: String(s) }), el('span', { text: D.anchors_short[s - 1] })]);
        b.addEventListener('click', (function (kk, ss, qq) { return function () { rate(kk, ss, qq); }; })(k, s, qi));
        row.appendChild(b);
      }
      qs.appendChild(el('div', { 'class': 'q', id: 'q-' + k }, [el('h3', { text: (qi + 1) + '. ' + D.questions[k] }), row]));
    });
    root.appendChild(el('div', { 'class': 'stage' }, [left, qs]));
    var pb = el('button', { id: 'play', type: 'button', text: 'Play' });
    var nb = el('button', { id: 'next', type: 'button', text: 'Next' });
    statusEl = el('span', { 'class': 'status', id: 'status' });
    pb.addEventListener('click', function () { video.currentTime = 0; play.last = 0; video.play(); });
    nb.addEventListener('click', next);
    root.appendChild(el('div', { 'class': 'controls' }, [pb, nb, statusEl]));
    root.appendChild(el('p', { 'class': 'help', text: D.keys_help }));
    video.addEventListener('loadedmetadata', function () { play.duration = video.duration; update(); });
    video.addEventListener('play', function () { play.plays += 1; pb.textContent = 'Replay'; });
    video.addEventListener('timeupdate', function () {
      var dt = video.currentTime - play.last;
      if (dt > 0 && dt < 1.0) play.played += dt;
      play.last = video.currentTime; update();
    });
    video.addEventListener('seeked', function () { play.last = video.currentTime; });
    video.addEventListener('ended', function () { play.ended = true; play.played = Math.max(play.played, 0); update(); });
    update();
  }

  function watched() { return play.ended && play.duration > 0 && play.played >= D.min_view * play.duration; }
  function rated() { return CRIT.every(function (k) { return S.cur[k] !== null; }); }

  function update() {
    CRIT.forEach(function (k, qi) {
      var q = document.getElementById('q-' + k);
      if (!q) return;
      q.className = 'q' + (qi === active ? ' active' : '');
      Array.prototype.forEach.call(q.querySelectorAll('button'), function (b) {
        b.className = Number(b.getAttribute('data-s')) === S.cur[k] ? 'sel' : '';
      });
    });
    var nb = document.getElementById('next');
    if (!nb) return;
    nb.disabled = !(watched() && rated());
    if (!watched()) note(play.plays ? 'Please watch the whole video.' : 'Press Play (or Space) to watch the video.');
    else if (!rated()) note('Please answer all three questions.');
    else note('');
  }

  function rate(k, s, qi) {
    S.cur[k] = s; save();
    var nextq = CRIT.findIndex(function (kk) { return S.cur[kk] === null; });
    active = nextq >= 0 ? nextq : qi;
    update();
  }

  function next() {
    if (!(watched() && rated())) { update(); return; }
    var t = D.trials[S.i], rec = { n: S.i, video: t.name, training: !!t.training, played_ms: Math.round(play.played * 1000),
      duration_ms: Math.round(play.duration * 1000), ended: play.ended, plays: play.plays, shown_ms: play.shown, answered_ms: Date.now() };
    CRIT.forEach(function (k) { rec[k] = S.cur[k]; });
    S.answers.push(rec); S.i += 1; S.cur = blank(); save();
    trial();
  }

  function exportText() {
    var payload = { format: 'mos-answers/1', study: D.study, rater: D.rater, page: D.page_version,
      started_ms: S.started_ms, finished_ms: S.finished_ms, trials: S.answers };
    var sig = hmacHex(D.token, utf8(canon(payload)));
    return JSON.stringify({ payload: payload, signature: { alg: 'HMAC-SHA256', value: sig } }, null, 1);
  }

  function done() {
    clear();
    if (!S.finished_ms) { S.finished_ms = Date.now(); save(); }
    root.appendChild(el('h1', { text: 'Thank you!' }));
    root.appendChild(el('p', { text: 'All videos are rated. Download your answer file and send it to the study organiser.' }));
    var text = exportText();
    var b = el('button', { id: 'download', type: 'button', text: 'Download answers' });
    b.addEventListener('click', function () {
      var a = el('a', { href: URL.createObjectURL(new Blob([text], { type: 'application/json' })), download: 'answers_' + D.rater + '.json' });
      document.body.appendChild(a); a.click(); document.body.removeChild(a);
    });
    statusEl = el('span', { 'class': 'status', id: 'status' });
    root.appendChild(el('div', { 'class': 'controls' }, [b, statusEl]));
    root.appendChild(el('p', { 'class': 'help', id: 'signature', text: 'File signature: ' + JSON.parse(text).signature.value.slice(0, 16) }));
    if (D.submit && /^https?:$/.test(location.protocol)) {
      fetch('submit', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: text }).then(function (r) {
        note(r.ok ? 'Your answers were saved on the study server.' : 'The server did not accept the answers (' + r.status + '): please download them.');
      }).catch(function () { note('No study server: please download the answers.'); });
    }
  }

  document.addEventListener('keydown', function (ev) {
    if (S.step === 'intro' && ev.key === 'Enter') { ev.preventDefault(); document.getElementById('start').click(); return; }
    if (S.step !== 'trial' || !play) return;
    if (ev.key >= '1' && ev.key <= '5') { ev.preventDefault(); rate(CRIT[active], Number(ev.key), active); }
    else if (ev.key === 'ArrowDown') { ev.preventDefault(); active = Math.min(CRIT.length - 1, active + 1); update(); }
    else if (ev.key === 'ArrowUp') { ev.preventDefault(); active = Math.max(0, active - 1); update(); }
    else if (ev.key === 'Enter') { ev.preventDefault(); next(); }
    else if (ev.key === ' ') { ev.preventDefault(); document.getElementById('play').click(); }
  });

  window.__mos = { state: function () { return JSON.parse(JSON.stringify(S)); }, exportText: exportText };
  if (S.step === 'intro') intro(); else if (S.step === 'done') done(); else trial();
})();

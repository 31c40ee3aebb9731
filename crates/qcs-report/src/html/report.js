// qcs report.html: the vulnerability and software tables, drawn a page at a time from the JSON
// blob (#qcs-data), with sorting, search and filters. Report text is only ever set as text.
(function () {
  'use strict';
  var blob = document.getElementById('qcs-data');
  var data;
  try { data = JSON.parse(blob.textContent); } catch (e) { data = { images: [] }; }
  // fields of a finding row (html.rs, finding_row)
  var QID = 0, TITLE = 1, SEV = 2, TYPE = 3, CVES = 4, CVSS2 = 5, CVSS3 = 6, PATCH = 7, PKGS = 8,
    CONDS = 9, EXCL = 10, SCOPE = 11, CAT = 12, FIRST = 13, THREAT = 14, T2 = 15, T3 = 16, AV = 17,
    RESULT = 18, FAILS = 19, BASE = 20;
  var SEVERITY = ['Unknown', 'Info', 'Low', 'Medium', 'High', 'Critical'];
  var THREATS = { easy_exploit: 'Easy exploit', malware: 'Malware', active_attacks: 'Active attacks',
    public_exploit: 'Public exploit' };
  var DAY = 86400000;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) { for (var k in attrs) { if (Object.prototype.hasOwnProperty.call(attrs, k)) { e.setAttribute(k, attrs[k]); } } }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function cmp(a, b) {
    if (a === b) { return 0; }
    if (a === null || a === undefined) { return 1; }
    if (b === null || b === undefined) { return -1; }
    if (typeof a === 'number' && typeof b === 'number') { return a - b; }
    return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: 'base' });
  }
  function cvss(r) {
    if (r[CVSS3] !== null && r[CVSS3] !== undefined) { return r[CVSS3]; }
    return r[CVSS2] === undefined ? null : r[CVSS2];
  }
  function pkgText(p) { return p[0] + (p[1] ? ' ' + p[1] : '') + (p[2] ? ' \u2192 ' + p[2] : ''); }

  // ---- the generic paged table --------------------------------------------------------------
  function Table(host, rows, spec) {
    this.host = host; this.rows = rows; this.spec = spec;
    this.view = rows.map(function (_, i) { return i; });
    this.page = 0; this.size = 50; this.sortCol = -1; this.sortDir = 1;
    this.query = ''; this.hay = null; this.open = {};
    this.build();
    this.apply();
  }
  Table.prototype.build = function () {
    var self = this, spec = this.spec, label = this.host.getAttribute('data-label');
    var bar = el('div', { 'class': 'toolbar' });
    var sid = label + '-search';
    bar.appendChild(el('label', { 'for': sid }, 'Search'));
    var search = el('input', { type: 'search', id: sid, placeholder: spec.placeholder, autocomplete: 'off' });
    var timer = null;
    search.addEventListener('input', function () {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(function () { self.query = search.value.trim().toLowerCase(); self.apply(); }, 120);
    });
    bar.appendChild(search);
    if (spec.filters) { spec.filters(bar, this); }
    this.host.appendChild(bar);
    this.status = el('p', { 'class': 'status', role: 'status', 'aria-live': 'polite' });
    this.host.appendChild(this.status);
    var scroll = el('div', { 'class': 'scroll', role: 'region', tabindex: '0', 'aria-labelledby': label });
    var table = el('table', { 'aria-labelledby': label });
    var thead = el('thead'), tr = el('tr');
    this.ths = spec.cols.map(function (c, i) {
      var th = el('th', { scope: 'col', 'class': c.num ? 'num' : '' });
      if (c.sort) {
        var b = el('button', { type: 'button', title: 'Sort by ' + c.label }, c.label);
        b.addEventListener('click', function () { self.sortBy(i); });
        th.appendChild(b);
      } else if (c.label) {
        th.textContent = c.label;
      } else {
        th.appendChild(el('span', { 'class': 'sr-only' }, 'Details'));
      }
      tr.appendChild(th);
      return th;
    });
    thead.appendChild(tr); table.appendChild(thead);
    this.tbody = el('tbody'); table.appendChild(this.tbody);
    scroll.appendChild(table); this.host.appendChild(scroll);
    var pager = el('div', { 'class': 'pager' });
    var mk = function (text, name, fn) {
      var b = el('button', { type: 'button', 'data-page': name }, text);
      b.addEventListener('click', fn); pager.appendChild(b); return b;
    };
    this.first = mk('\u00ab First', 'first', function () { self.go(0); });
    this.prev = mk('\u2039 Previous', 'prev', function () { self.go(self.page - 1); });
    this.where = el('span'); pager.appendChild(this.where);
    this.next = mk('Next \u203a', 'next', function () { self.go(self.page + 1); });
    this.last = mk('Last \u00bb', 'last', function () { self.go(Infinity); });
    var pid = label + '-size';
    pager.appendChild(el('label', { 'for': pid }, 'Rows per page'));
    var size = el('select', { id: pid });
    [25, 50, 100, 250].forEach(function (n) {
      var o = el('option', { value: String(n) }, n); if (n === self.size) { o.selected = true; } size.appendChild(o);
    });
    size.addEventListener('change', function () { self.size = Number(size.value); self.go(0); });
    pager.appendChild(size);
    this.host.appendChild(pager);
  };
  Table.prototype.haystack = function () {
    if (!this.hay) { this.hay = this.rows.map(this.spec.text); }
    return this.hay;
  };
  Table.prototype.apply = function () {
    var rows = this.rows, keep = this.spec.keep, q = this.query, out = [];
    var hay = q ? this.haystack() : null;
    for (var i = 0; i < rows.length; i++) {
      if (keep && !keep(rows[i])) { continue; }
      if (q && hay[i].indexOf(q) < 0) { continue; }
      out.push(i);
    }
    this.view = out;
    this.order();
    this.go(0);
  };
  Table.prototype.order = function () {
    if (this.sortCol < 0) { return; }
    var key = this.spec.cols[this.sortCol].sort, rows = this.rows, dir = this.sortDir;
    var keys = new Array(rows.length);
    this.view.forEach(function (i) { keys[i] = key(rows[i]); });
    this.view.sort(function (a, b) {
      var ka = keys[a], kb = keys[b];
      // missing values last in both directions
      if (ka === null || ka === undefined) { return (kb === null || kb === undefined) ? a - b : 1; }
      if (kb === null || kb === undefined) { return -1; }
      return dir * cmp(ka, kb) || a - b;
    });
  };
  Table.prototype.sortBy = function (i) {
    if (this.sortCol === i) { this.sortDir = -this.sortDir; } else { this.sortCol = i; this.sortDir = this.spec.cols[i].desc ? -1 : 1; }
    var self = this;
    this.ths.forEach(function (th, j) {
      if (j === self.sortCol) { th.setAttribute('aria-sort', self.sortDir > 0 ? 'ascending' : 'descending'); } else { th.removeAttribute('aria-sort'); }
    });
    this.order();
    this.go(0);
  };
  Table.prototype.go = function (p) {
    var pages = Math.max(1, Math.ceil(this.view.length / this.size));
    this.page = Math.max(0, Math.min(pages - 1, p));
    this.draw(pages);
  };
  Table.prototype.draw = function (pages) {
    var start = this.page * this.size, end = Math.min(this.view.length, start + this.size);
    var frag = document.createDocumentFragment();
    for (var k = start; k < end; k++) {
      var i = this.view[k], r = this.rows[i];
      var tr = el('tr', { 'class': 'row' });
      this.spec.row(r, tr, i, this);
      frag.appendChild(tr);
      if (this.open[i] && this.spec.detail) { frag.appendChild(this.detailRow(r)); }
    }
    if (end === start) {
      var none = el('tr'); none.appendChild(el('td', { colspan: String(this.spec.cols.length), 'class': 'muted' }, 'No rows match.'));
      frag.appendChild(none);
    }
    this.tbody.textContent = '';
    this.tbody.appendChild(frag);
    var total = this.rows.length, shown = this.view.length;
    this.status.textContent = (shown ? 'Rows ' + (start + 1) + '\u2013' + end + ' of ' + shown : 'No rows') +
      (shown !== total ? ' (filtered from ' + total + ')' : '');
    this.where.textContent = 'Page ' + (this.page + 1) + ' of ' + pages;
    this.first.disabled = this.prev.disabled = this.page === 0;
    this.next.disabled = this.last.disabled = this.page >= pages - 1;
  };
  Table.prototype.detailRow = function (r) {
    var tr = el('tr', { 'class': 'detail' });
    var td = el('td', { colspan: String(this.spec.cols.length) });
    this.spec.detail(r, td);
    tr.appendChild(td);
    return tr;
  };
  Table.prototype.toggle = function (i) {
    this.open[i] = !this.open[i];
    var pages = Math.max(1, Math.ceil(this.view.length / this.size));
    this.draw(pages);
  };

  // ---- findings --------------------------------------------------------------------------
  function findingsSpec(img) {
    var ref = Date.parse(img.scanned_at || '') || Date.now();
    var age = function (r) { var t = r[FIRST] ? Date.parse(r[FIRST]) : NaN; return isNaN(t) ? null : Math.max(0, Math.floor((ref - t) / DAY)); };
    var state = { sev: [true, true, true, true, true, true], type: 'all', fix: 'all', failing: false, base: 'all' };
    // judged against a baseline: a column and a filter for new and unchanged findings
    var hasBase = img.findings.some(function (r) { return !!r[BASE]; });
    var spec = {
      placeholder: 'QID, title, CVE, category, package',
      cols: [
        { label: '' },
        { label: 'QID', num: true, sort: function (r) { return r[QID]; } },
        { label: 'Title', sort: function (r) { return r[TITLE]; } },
        { label: 'Severity', desc: true, sort: function (r) { return r[SEV]; } },
        { label: 'Type', sort: function (r) { return r[TYPE]; } },
        { label: 'CVEs', sort: function (r) { return r[CVES].length ? r[CVES][0] : null; } },
        { label: 'CVSS', num: true, desc: true, sort: cvss },
        { label: 'Category', sort: function (r) { return r[CAT]; } },
        { label: 'Age (days)', num: true, desc: true, sort: age },
        { label: 'Installed \u2192 fixed in', sort: function (r) { return r[PKGS].length ? r[PKGS][0][0] : null; } },
        { label: 'Patchable', desc: true, sort: function (r) { return r[PATCH] ? 1 : 0; } },
        { label: 'Threat', desc: true, sort: function (r) { return r[THREAT].length; } },
        { label: 'Policy', desc: true, sort: function (r) { return r[FAILS].length ? 2 : (r[EXCL] ? 0 : 1); } }
      ],
      text: function (r) {
        return [r[QID], r[TITLE], r[CVES].join(' '), r[CAT] || '', r[PKGS].map(function (p) { return p[0]; }).join(' ')].join(' ').toLowerCase();
      },
      keep: function (r) {
        if (!state.sev[r[SEV]]) { return false; }
        if (state.type !== 'all' && r[TYPE] !== state.type) { return false; }
        if (state.fix === 'yes' && !r[PATCH]) { return false; }
        if (state.fix === 'no' && r[PATCH]) { return false; }
        if (state.failing && !r[FAILS].length) { return false; }
        if (state.base !== 'all' && r[BASE] !== state.base) { return false; }
        return true;
      },
      filters: function (bar, table) {
        var fs = el('fieldset'); fs.appendChild(el('legend', null, 'Severity'));
        [5, 4, 3, 2, 1].forEach(function (s) {
          var lab = el('label'), cb = el('input', { type: 'checkbox', 'data-severity': String(s) });
          cb.checked = true;
          cb.addEventListener('change', function () { state.sev[s] = cb.checked; if (s === 1) { state.sev[0] = cb.checked; } table.apply(); });
          lab.appendChild(cb); lab.appendChild(document.createTextNode(' ' + s)); fs.appendChild(lab);
        });
        bar.appendChild(fs);
        var sel = function (name, label, opts, fn) {
          var id = table.host.getAttribute('data-label') + '-' + name;
          bar.appendChild(el('label', { 'for': id }, label));
          var s = el('select', { id: id, 'data-filter': name });
          opts.forEach(function (o) { s.appendChild(el('option', { value: o[0] }, o[1])); });
          s.addEventListener('change', function () { fn(s.value); table.apply(); });
          bar.appendChild(s);
        };
        sel('type', 'Detection', [['all', 'All'], ['confirmed', 'Confirmed'], ['potential', 'Potential']], function (v) { state.type = v; });
        sel('fix', 'Fix', [['all', 'All'], ['yes', 'Patchable'], ['no', 'Not patchable']], function (v) { state.fix = v; });
        if (hasBase) {
          sel('baseline', 'Baseline', [['all', 'All'], ['new', 'New'], ['unchanged', 'Unchanged']], function (v) { state.base = v; });
        }
        var lab = el('label'), cb = el('input', { type: 'checkbox', 'data-filter': 'failing' });
        cb.addEventListener('change', function () { state.failing = cb.checked; table.apply(); });
        lab.appendChild(cb); lab.appendChild(document.createTextNode(' Failing only')); bar.appendChild(lab);
      },
      row: function (r, tr, i, table) {
        if (r[EXCL]) { tr.className += ' excluded'; }
        if (r[FAILS].length) { tr.className += ' failing'; }
        tr.setAttribute('data-qid', String(r[QID]));
        if (r[BASE]) { tr.setAttribute('data-baseline', r[BASE]); }
        var td = el('td'), b = el('button', { type: 'button', 'class': 'expand', 'aria-expanded': table.open[i] ? 'true' : 'false',
          'aria-label': 'Details of QID ' + r[QID] }, table.open[i] ? '\u2212' : '+');
        b.addEventListener('click', function () { table.toggle(i); });
        td.appendChild(b); tr.appendChild(td);
        tr.appendChild(el('td', { 'class': 'num' }, r[QID]));
        tr.appendChild(el('td', { 'class': 'title' }, r[TITLE]));
        var sv = el('td'); sv.appendChild(el('span', { 'class': 'sev sev-' + r[SEV] }, r[SEV] + ' ' + SEVERITY[r[SEV]])); tr.appendChild(sv);
        tr.appendChild(el('td', null, r[TYPE] === 'confirmed' ? 'Confirmed' : r[TYPE] === 'potential' ? 'Potential' : 'Other'));
        var cv = r[CVES];
        tr.appendChild(el('td', { 'class': 'mono' }, cv.slice(0, 2).join(', ') + (cv.length > 2 ? ' +' + (cv.length - 2) : '')));
        var sc = cvss(r);
        tr.appendChild(el('td', { 'class': 'num' }, sc === null ? '' : sc.toFixed(1) + (r[CVSS3] !== null ? '' : ' (v2)')));
        tr.appendChild(el('td', null, r[CAT] || ''));
        var a = age(r); tr.appendChild(el('td', { 'class': 'num' }, a === null ? '' : a));
        var p = r[PKGS];
        tr.appendChild(el('td', { 'class': 'mono' }, p.length ? pkgText(p[0]) + (p.length > 1 ? ' +' + (p.length - 1) : '') : ''));
        tr.appendChild(el('td', null, r[PATCH] ? 'Yes' : 'No'));
        var th = el('td'); r[THREAT].forEach(function (t) { th.appendChild(el('span', { 'class': 'flag' }, THREATS[t] || t)); }); tr.appendChild(th);
        var pol = r[FAILS].length ? 'Fails: ' + r[FAILS].join(', ') : r[EXCL] ? 'Excluded (' + r[EXCL] + ')' : !r[SCOPE] ? 'Not judged' : r[CONDS].length ? 'Counted' : '';
        tr.appendChild(el('td', null, pol));
        if (hasBase) { tr.appendChild(el('td', null, r[BASE] === 'new' ? 'New' : r[BASE] === 'unchanged' ? 'Unchanged' : '')); }
      },
      detail: function (r, td) {
        var dl = el('dl');
        var add = function (k, v) { if (v === null || v === undefined || v === '') { return; } dl.appendChild(el('dt', null, k)); var dd = el('dd'); if (v instanceof Node) { dd.appendChild(v); } else { dd.textContent = String(v); } dl.appendChild(dd); };
        add('CVSS v3', r[CVSS3] !== null ? 'base ' + r[CVSS3] + (r[T3] !== null ? ', temporal ' + r[T3] : '') : 'none');
        add('CVSS v2', r[CVSS2] !== null ? 'base ' + r[CVSS2] + (r[T2] !== null ? ', temporal ' + r[T2] : '') + (r[AV] ? ', access vector ' + r[AV] : '') : 'none');
        add('CVEs', r[CVES].join(', ') || 'none');
        add('Software', r[PKGS].map(pkgText).join('; ') || 'none');
        add('First found', r[FIRST]);
        add('Threat intelligence', r[THREAT].map(function (t) { return THREATS[t] || t; }).join(', '));
        add('Counts toward', r[CONDS].join(', '));
        add('Excluded by', r[EXCL]);
        add('Baseline', r[BASE] === 'new' ? 'new since the baseline' : r[BASE] === 'unchanged' ? 'in the baseline' : null);
        if (!r[SCOPE]) { add('Scope', 'not judged by the policy (potential, or not fixable with fixable-only)'); }
        if (r[RESULT]) { add('Result', el('pre', null, r[RESULT])); }
        td.appendChild(dl);
      }
    };
    if (hasBase) {
      spec.cols.push({ label: 'Baseline', sort: function (r) { return r[BASE] === 'new' ? 1 : r[BASE] ? 0 : null; }, desc: true });
    }
    return spec;
  }

  // ---- installed software ----------------------------------------------------------------
  function softwareSpec(img) {
    var vulns = {};
    img.findings.forEach(function (r) { r[PKGS].forEach(function (p) { vulns[p[0]] = (vulns[p[0]] || 0) + 1; }); });
    var count = function (s) { return vulns[s[0]] || 0; };
    var state = { vulnerable: false };
    return {
      placeholder: 'package name or version',
      cols: [
        { label: 'Name', sort: function (s) { return s[0]; } },
        { label: 'Installed version', sort: function (s) { return s[1]; } },
        { label: 'Fixed in', sort: function (s) { return s[2]; } },
        { label: 'Vulnerabilities', num: true, desc: true, sort: count }
      ],
      text: function (s) { return (s[0] + ' ' + (s[1] || '') + ' ' + (s[2] || '')).toLowerCase(); },
      keep: function (s) { return !state.vulnerable || count(s) > 0; },
      filters: function (bar, table) {
        var lab = el('label'), cb = el('input', { type: 'checkbox', 'data-filter': 'vulnerable' });
        cb.addEventListener('change', function () { state.vulnerable = cb.checked; table.apply(); });
        lab.appendChild(cb); lab.appendChild(document.createTextNode(' Vulnerable only')); bar.appendChild(lab);
      },
      row: function (s, tr) {
        tr.appendChild(el('td', { 'class': 'mono' }, s[0]));
        tr.appendChild(el('td', { 'class': 'mono' }, s[1] || ''));
        tr.appendChild(el('td', { 'class': 'mono' }, s[2] || ''));
        tr.appendChild(el('td', { 'class': 'num' }, count(s)));
      }
    };
  }

  // ---- start -----------------------------------------------------------------------------
  function init(host) {
    if (host.getAttribute('data-ready')) { return; }
    host.setAttribute('data-ready', '1');
    var img = data.images[Number(host.getAttribute('data-image'))];
    if (!img) { return; }
    if (host.getAttribute('data-kind') === 'findings') {
      host.qcsTable = new Table(host, img.findings, findingsSpec(img));
    } else {
      host.qcsTable = new Table(host, img.software, softwareSpec(img));
    }
  }
  var hosts = Array.prototype.slice.call(document.querySelectorAll('.qtable'));
  if ('IntersectionObserver' in window && hosts.length > 4) {
    var io = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) { if (e.isIntersecting) { io.unobserve(e.target); init(e.target); } });
    }, { rootMargin: '800px 0px' });
    hosts.forEach(function (h) { io.observe(h); });
  } else {
    hosts.forEach(init);
  }
  window.addEventListener('beforeprint', function () { hosts.forEach(init); });
  document.documentElement.setAttribute('data-qcs-ready', '1');
}());

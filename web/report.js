/* report.js — the script of silica's HTML reports (src/io/report.c writes the page; docs/reports.md).
 * It draws each chart of the page's #silica-charts list with vega-embed, then publishes what it
 * drew as window.__silica_report = {kind, done, charts: [{id, title, rows, data_rows, marks, ok}],
 * errors}, which the browser test (tests/report_browser.py) checks: every chart's main mark has one
 * item per row of its data, and nothing went to the console's error or warning channels.
 * Inlined into the page after vega, vega-lite and vega-embed; no network, no modules. */
(function () {
  'use strict';
  var errors = window.__silica_errors || [];
  var status = {kind: document.body.getAttribute('data-kind'), done: false, charts: [], errors: errors};
  window.__silica_report = status;

  /* Items of every named mark in the scenegraph, summed over facets and layers. */
  function markCounts(view) {
    var counts = {};
    (function walk(node) {
      if (!node) return;
      if (node.marktype !== undefined && node.name) counts[node.name] = (counts[node.name] || 0) + (node.items || []).length;
      (node.items || []).forEach(function (child) {
        if (child && child.items) walk(child);
      });
    })(view.scenegraph().root);
    return counts;
  }

  function finish() {
    status.done = true;
    document.documentElement.setAttribute('data-silica-done', status.charts.every(function (c) { return c.ok; }) ? 'ok' : 'bad');
  }

  var specs;
  try {
    specs = JSON.parse(document.getElementById('silica-charts').textContent);
  } catch (e) {
    errors.push('report.js: cannot read the chart list: ' + e);
    finish();
    return;
  }
  if (typeof vegaEmbed !== 'function') {
    errors.push('report.js: vega-embed is not on the page');
    finish();
    return;
  }
  var opts = {
    renderer: 'svg',
    /* Export to PNG/SVG works offline; "open in editor" and "view source" would need the network. */
    actions: {export: true, source: false, compiled: false, editor: false},
    tooltip: {theme: 'light'}
  };
  var jobs = specs.map(function (c) {
    var spec = c.spec;
    spec.datasets = c.datasets;
    return vegaEmbed('#' + c.id, spec, opts).then(function (res) {
      var counts = markCounts(res.view);
      var dataRows = -1;
      try {
        dataRows = res.view.data(c.dataset).length;
      } catch (e) {
        errors.push('report.js: ' + c.id + ': no dataset ' + c.dataset + ': ' + e);
      }
      var marks = counts[c.main + '_marks'] || 0;
      status.charts.push({id: c.id, title: c.title, rows: c.rows, data_rows: dataRows, marks: marks,
                          mark_counts: counts, ok: marks === c.rows && dataRows === c.rows});
    }).catch(function (e) {
      errors.push('report.js: ' + c.id + ': ' + (e && e.stack ? e.stack : e));
      status.charts.push({id: c.id, title: c.title, rows: c.rows, data_rows: -1, marks: 0, ok: false});
    });
  });
  Promise.all(jobs).then(finish);
})();

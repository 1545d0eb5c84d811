// The 统计 page's charts: drawn with the vendored ECharts (Chinese locale) from the JSON the
// page links to (<section data-charts-url="…">). No inline script (CSP default-src 'self');
// the tables beside each chart carry the same numbers for readers without JavaScript.
(function () {
  "use strict";

  var PALETTE = ["#1f6fb2", "#2e9e5b", "#d9822b", "#8e44ad", "#c0392b", "#16a085"];

  function chart(id) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    el.classList.add("drawn");
    var c = window.echarts.init(el, null, { locale: "ZH", renderer: "canvas" });
    window.addEventListener("resize", function () { c.resize(); });
    return c;
  }

  function percentAxis() {
    return { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } };
  }

  function drawChildren(data) {
    var c = chart("chart-children");
    if (!c || !data.children.names.length) { return; }
    c.setOption({
      color: PALETTE,
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v + "%"; } },
      legend: { top: 0 },
      grid: { left: 48, right: 16, top: 36, bottom: 64 },
      xAxis: { type: "category", data: data.children.names,
               axisLabel: { interval: 0, rotate: data.children.names.length > 6 ? 30 : 0 } },
      yAxis: percentAxis(),
      series: [
        { name: "走访覆盖率", type: "bar", data: data.children.coverage_pct },
        { name: "整改率", type: "bar", data: data.children.rectification_rate_pct }
      ]
    });
  }

  function drawCategories(data) {
    var c = chart("chart-categories");
    if (!c || !data.categories.length) { return; }
    var rows = data.categories.slice().reverse();  // the largest on top
    c.setOption({
      color: [PALETTE[2]],
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 140, right: 32, top: 8, bottom: 24 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: rows.map(function (r) { return r.name; }) },
      series: [{ name: "问题数", type: "bar", data: rows.map(function (r) { return r.value; }),
                 label: { show: true, position: "right" } }]
    });
  }

  function drawWeeks(data) {
    var c = chart("chart-weeks");
    if (!c || !data.weeks.labels.length) { return; }
    c.setOption({
      color: [PALETTE[0], PALETTE[1]],
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 16, top: 36, bottom: 48 },
      xAxis: { type: "category", data: data.weeks.labels },
      yAxis: { type: "value", minInterval: 1 },
      dataZoom: data.weeks.labels.length > 26 ? [{ type: "slider", bottom: 4 }] : [],
      series: [
        { name: "发现问题", type: "line", data: data.weeks.found, smooth: false, symbolSize: 6 },
        { name: "整改完成", type: "line", data: data.weeks.rectified, smooth: false,
          symbolSize: 6 }
      ]
    });
  }

  function start() {
    var holder = document.querySelector("[data-charts-url]");
    if (!holder || !window.echarts || !window.fetch) { return; }
    fetch(holder.getAttribute("data-charts-url"), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (resp) {
      if (!resp.ok) { throw new Error("HTTP " + resp.status); }
      return resp.json();
    }).then(function (data) {
      drawChildren(data);
      drawCategories(data);
      drawWeeks(data);
      holder.setAttribute("data-charts-ready", "1");
    }).catch(function (err) {
      holder.setAttribute("data-charts-error", String(err));
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

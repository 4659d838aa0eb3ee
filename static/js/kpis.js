/* KPI pages: daily chart with target line and drift alerts (Chart.js), auto-submitting pickers.
   Data comes from a <script type="application/json"> rendered by Django's json_script. */
(function () {
  "use strict";

  var PALETTE = ["#1d5fa3", "#f4a259", "#2a9d8f", "#e76f51", "#6a4c93", "#8ab17d", "#c8553d", "#264653"];

  function autosubmit() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () {
        if (select.form) {
          select.form.submit();
        }
      });
    });
  }

  function alertPoints(payload, valueSets) {
    // One triangle per alert, on the alert's day, at the partner's value that day.
    var index = {};
    payload.labels.forEach(function (label, i) { index[label] = i; });
    var points = payload.labels.map(function () { return null; });
    var texts = {};
    payload.alerts.forEach(function (alert) {
      var i = index[alert.date];
      if (i === undefined) {
        return;
      }
      var values = valueSets[alert.partner] || valueSets[Object.keys(valueSets)[0]] || [];
      var y = values[i];
      for (var back = i; (y === null || y === undefined) && back >= 0; back--) {
        y = values[back];
      }
      points[i] = y === undefined ? null : y;
      texts[i] = (texts[i] ? texts[i] + " | " : "") + alert.kind + ": " + alert.text;
    });
    return { points: points, texts: texts };
  }

  function drawChart() {
    var source = document.getElementById("kpi-chart-data");
    var canvas = document.getElementById("kpi-chart");
    if (!source || !canvas || typeof window.Chart === "undefined") {
      return;
    }
    var payload = JSON.parse(source.textContent);
    var colours = {};
    var valueSets = {};
    var datasets = [];
    payload.datasets.forEach(function (set) {
      if (!(set.partner in colours)) {
        colours[set.partner] = PALETTE[Object.keys(colours).length % PALETTE.length];
      }
      var colour = colours[set.partner];
      if (set.kind === "values") {
        var name = set.label;
        valueSets[name] = set.data;
        datasets.push({
          label: set.label,
          data: set.data,
          borderColor: colour,
          backgroundColor: colour,
          borderWidth: 1.5,
          pointRadius: 0,
          spanGaps: false,
          tension: 0.15
        });
      } else {
        datasets.push({
          label: set.label,
          data: set.data,
          borderColor: colour,
          borderDash: [6, 4],
          borderWidth: 2,
          pointRadius: 0,
          stepped: true,
          fill: false,
          kpiTarget: true
        });
      }
    });
    var marks = alertPoints(payload, valueSets);
    if (payload.alerts.length) {
      datasets.push({
        label: "Drift alerts",
        data: marks.points,
        showLine: false,
        pointStyle: "triangle",
        pointRadius: 9,
        pointHoverRadius: 11,
        borderColor: "#b02a37",
        backgroundColor: "rgba(220, 53, 69, 0.8)",
        kpiAlerts: true
      });
    }
    var chart = new window.Chart(canvas, {
      type: "line",
      data: { labels: payload.labels, datasets: datasets },
      options: {
        responsive: true,
        aspectRatio: 2.8,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { ticks: { maxTicksLimit: 12, autoSkip: true } },
          y: { title: { display: true, text: payload.kpi.name } }
        },
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              afterBody: function (items) {
                var i = items.length ? items[0].dataIndex : -1;
                return marks.texts[i] ? [marks.texts[i]] : [];
              }
            }
          }
        }
      }
    });
    canvas.setAttribute("data-ready", "1");
    canvas.setAttribute("data-target-lines", String(datasets.filter(function (d) { return d.kpiTarget; }).length));
    canvas.setAttribute("data-alert-marks", String(payload.alerts.length));
    window.partnerhubKpiChart = chart;
  }

  function start() {
    autosubmit();
    drawChart();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

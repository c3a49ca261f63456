// Draws the metric charts from the JSON the page embeds (id "metrics-charts") with the vendored Chart.js.
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("metrics-charts");
    if (!source || typeof window.Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var text = data.labels_text;
    var common = { responsive: true, maintainAspectRatio: false, animation: false };

    function chart(id, config) {
      var canvas = document.getElementById(id);
      if (canvas) new window.Chart(canvas, config);
    }

    chart("chart-trend", {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          { label: text.solved, data: data.series.solved, borderColor: "#0b6e4f", backgroundColor: "#0b6e4f" },
          { label: text.replies, data: data.series.replies, borderColor: "#2563eb", backgroundColor: "#2563eb" },
        ],
      },
      options: Object.assign({}, common, { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }),
    });
    chart("chart-quality", {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          { label: text.first_response, data: data.series.first_response, borderColor: "#d97706", yAxisID: "y", spanGaps: true },
          { label: text.sla, data: data.series.sla, borderColor: "#16a34a", yAxisID: "y1", spanGaps: true },
        ],
      },
      options: Object.assign({}, common, {
        scales: { y: { position: "left", beginAtZero: true }, y1: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } } },
      }),
    });
    // Bars sit between the axis edges (offset), so the first and last are whole; counts have whole ticks.
    var bars = Object.assign({}, common, {
      scales: { x: { type: "category", offset: true, grid: { offset: true } }, y: { beginAtZero: true, ticks: { precision: 0 } } },
    });
    chart("chart-qa", {
      type: "bar",
      data: { labels: data.qa.labels.map(String), datasets: [{ label: text.qa, data: data.qa.values, backgroundColor: "#16a34a" }] },
      options: bars,
    });
    chart("chart-csat", {
      type: "bar",
      data: { labels: data.csat_dist.labels.map(String), datasets: [{ label: text.csat_dist, data: data.csat_dist.values, backgroundColor: "#2563eb" }] },
      options: bars,
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();

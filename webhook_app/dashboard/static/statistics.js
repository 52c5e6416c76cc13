// The chart of the statistics page: visits and unique visitors per day, and the visits of
// the previous period. Its numbers come from the dashboard's JSON (the canvas's
// data-source, same origin, same session); every label is handed to Chart.js as data,
// drawn on the canvas, never inserted as HTML. The table under the chart holds the same
// numbers for anyone who cannot see it.
"use strict";

(function () {
  var canvas = document.getElementById("stats-chart");
  if (!canvas || typeof Chart === "undefined") {
    return;
  }
  var colours = ["#1d4ed8", "#b45309", "#6b7280"];
  fetch(canvas.dataset.source, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("statistics: HTTP " + response.status);
      }
      return response.json();
    })
    .then(function (data) {
      new Chart(canvas, {
        type: "line",
        data: {
          labels: data.labels,
          datasets: data.datasets.map(function (set, index) {
            return {
              label: set.label,
              data: set.data,
              borderColor: colours[index % colours.length],
              backgroundColor: colours[index % colours.length],
              borderDash: set.key === "previous_visits" ? [6, 4] : [],
              pointRadius: data.labels.length > 62 ? 0 : 2,
              tension: 0
            };
          })
        },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: true,
          aspectRatio: 2,
          interaction: { mode: "index", intersect: false },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
        }
      });
      canvas.dataset.drawn = "true";
    })
    .catch(function (error) {
      canvas.dataset.drawn = "failed";
      console.error(error);
    });
})();

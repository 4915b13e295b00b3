// Leaderboard: changing a choice reloads the page at its shareable URL; codec page: one RD plot per metric.
(function () {
  const form = document.getElementById("leaderboard-form");
  if (form) {
    for (const id of ["lb-set", "lb-metric", "lb-anchor"]) {
      const select = document.getElementById(id);
      if (select) select.addEventListener("change", () => {
        if (id === "lb-set") { form.querySelector("#lb-metric").disabled = false; }
        form.submit();
      });
    }
  }
  const box = document.getElementById("codec-curves");
  if (!box || !window.Plotly) return;
  const codec = box.dataset.codec, anchor = box.dataset.anchor;
  fetch(box.dataset.source).then((r) => r.json()).then((data) => {
    for (const [metric, curves] of Object.entries(data.metrics)) {
      const div = document.createElement("div");
      div.className = "codec-plot";
      div.id = `plot-${metric}`;
      box.appendChild(div);
      const traces = Object.entries(curves).map(([name, points]) => {
        const mine = name === codec, isAnchor = name === anchor;
        return {
          x: points.map((p) => p.bpp), y: points.map((p) => p.value), name, mode: "lines+markers",
          line: { width: mine ? 3 : 1, color: mine ? "#d62728" : isAnchor ? "#1f77b4" : "#bbbbbb" },
          marker: { size: mine ? 7 : 4 },
          text: points.map((p) => `rate point ${p.rate_point}, ${p.images} image(s)`),
        };
      });
      Plotly.newPlot(div, traces, {
        title: { text: metric }, height: 360, margin: { t: 40, l: 70, r: 20, b: 60 },
        xaxis: { title: { text: "bpp" } }, yaxis: { title: { text: metric, standoff: 10 } },
        legend: { orientation: "h", y: -0.25 },
      }, { responsive: true });
    }
  });
})();

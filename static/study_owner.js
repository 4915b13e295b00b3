// Study owner page: live progress, close, the scale as Plotly plots (score with 95% intervals vs bpp, one
// curve per codec, one plot per source image) and the observers' screening.
(function () {
  const root = document.getElementById("study-owner");
  const studyId = root.dataset.studyId;
  const names = window.LICBENCH_IMAGE_NAMES;
  const api = `/api/v1/studies/${studyId}`;
  let lastTrials = -1;
  let inFlight = false;  // one refresh at a time: recomputing a stale scale can take a while

  function cell(tr, text) { const td = document.createElement("td"); td.textContent = text; tr.appendChild(td); }
  function fmt(v, digits) { return v === null || v === undefined ? "n/a" : Number(v).toFixed(digits); }

  function drawScale(scale) {
    const container = document.getElementById("scale-plots");
    const images = [...new Set(scale.conditions.map((c) => c.group))];
    for (const imageId of images) {
      let div = document.getElementById(`scale-plot-${imageId}`);
      if (!div) {
        div = document.createElement("div");
        div.id = `scale-plot-${imageId}`;
        div.className = "scale-plot";
        container.appendChild(div);
      }
      const rows = scale.conditions.filter((c) => c.group === imageId && c.score !== null);
      const codecs = [...new Set(rows.filter((c) => c.codec !== "reference").map((c) => c.codec))];
      const traces = codecs.map((codec) => {
        const points = rows.filter((c) => c.codec === codec).sort((p, q) => p.bpp - q.bpp);
        return {
          // imported studies have no bpp: their conditions are placed by label
          x: points.map((p) => (p.bpp === null ? p.label : p.bpp)), y: points.map((p) => p.score),
          name: codec === null ? "conditions" : codec, mode: "lines+markers",
          type: "scatter",
          error_y: { type: "data", symmetric: false, array: points.map((p) => p.ci_high - p.score),
                     arrayminus: points.map((p) => p.score - p.ci_low) },
          text: points.map((p) => `rate point ${p.rate_point}, n=${p.n}` +
            (p.effective_comparisons == null ? "" : ` (effective ${fmt(p.effective_comparisons, 1)})`) +
            `, [${fmt(p.ci_low, 2)}, ${fmt(p.ci_high, 2)}]`),
          hovertemplate: "%{fullData.name}<br>%{x:.4f} bpp<br>%{y:.3f} " + scale.unit + "<br>%{text}<extra></extra>",
        };
      });
      const reference = rows.find((c) => c.codec === "reference");
      const bpps = rows.filter((c) => c.bpp !== null).map((c) => c.bpp);
      if (reference && bpps.length) {
        traces.push({ x: [Math.min(...bpps), Math.max(...bpps)], y: [reference.score, reference.score],
                      name: "reference", mode: "lines", type: "scatter", line: { dash: "dash", color: "#555" },
                      hovertemplate: "reference: %{y:.3f}<extra></extra>" });
      }
      Plotly.react(div, traces, {
        title: { text: names[String(imageId)] || `image ${imageId}`, font: { size: 14 } },
        xaxis: { title: { text: rows.some((c) => c.bpp !== null) ? "bpp" : "condition" } },
        yaxis: { title: { text: scale.unit } },
        margin: { t: 40, r: 10, b: 50, l: 55 }, legend: { orientation: "h", y: -0.25 },
      }, { responsive: true });
    }
    const body = document.querySelector("#observers-table tbody");
    body.innerHTML = "";
    for (const o of scale.observers) {
      const tr = document.createElement("tr");
      cell(tr, o.session_id); cell(tr, o.trials); cell(tr, o.outlier ? "yes" : "no"); cell(tr, o.reason || "");
      body.appendChild(tr);
    }
    document.getElementById("scale-warnings").textContent = scale.warnings.join(" ");
    return Object.fromEntries(scale.conditions.map((c) => [c.condition_id, c]));
  }

  async function refresh() {
    const response = await fetch(api);
    if (!response.ok) return;
    const study = await response.json();
    document.getElementById("study-status").textContent = study.status;
    const close = document.getElementById("close-study");
    if (close) close.hidden = study.status !== "open";
    const progress = study.progress;
    document.getElementById("progress-sessions").textContent = progress.sessions;
    document.getElementById("progress-complete").textContent = progress.sessions_complete;
    document.getElementById("progress-trials").textContent = progress.trials_answered;
    if (progress.trials_answered === lastTrials) return;
    lastTrials = progress.trials_answered;
    let scores = {};
    const scaleResponse = await fetch(`${api}/scale`);
    if (scaleResponse.status === 202) {  // a worker computes the scale (imported and triplet studies)
      document.getElementById("scale-warnings").textContent = "The scale is being computed by a worker…";
      lastTrials = -1;  // ask again on the next tick
    } else if (scaleResponse.ok) scores = drawScale(await scaleResponse.json());
    const trials = Object.fromEntries(progress.conditions.map((c) => [c.condition_id, c.trials]));
    const body = document.querySelector("#progress-table tbody");
    body.innerHTML = "";
    for (const c of study.conditions) {
      const tr = document.createElement("tr");
      const s = scores[c.id] || {};
      cell(tr, names[c.group] || c.group); cell(tr, c.id); cell(tr, c.codec === null ? c.label : c.codec);
      cell(tr, c.rate_point === null ? "" : c.rate_point); cell(tr, c.bpp === null ? "" : fmt(c.bpp, 4));
      cell(tr, trials[c.id] || 0); cell(tr, fmt(s.score, 3));
      cell(tr, s.score === null || s.score === undefined ? "" : `[${fmt(s.ci_low, 3)}, ${fmt(s.ci_high, 3)}]`);
      body.appendChild(tr);
    }
  }

  const closeButton = document.getElementById("close-study");  // only the job's owner sees it
  if (closeButton) {
    closeButton.addEventListener("click", async () => {
      const response = await fetch(`${api}/close`, { method: "POST" });
      if (response.ok) tick();
    });
  }

  async function tick() {
    if (inFlight || document.hidden) return;
    inFlight = true;
    try { await refresh(); } finally { inFlight = false; }
  }

  tick();
  setInterval(tick, 3000);
})();

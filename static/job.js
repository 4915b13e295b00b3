// Job page: live progress, interactive Plotly RD plot and the results table.
(function () {
  const jobId = document.getElementById("job").dataset.jobId;
  const metricSelect = document.getElementById("rd-metric");
  const imageSelect = document.getElementById("rd-image");
  const names = Object.fromEntries(window.LICBENCH_IMAGE_IDS.map((id, i) => [id, window.LICBENCH_IMAGES[i]]));
  const anchorSelect = document.getElementById("bd-anchor");
  const referenceBox = document.getElementById("rd-references");
  let lastDone = -1;
  let references = null;

  async function referenceTraces(metric) {
    if (!referenceBox.checked) return [];
    if (references === null) {
      const response = await fetch("/api/v1/reference-curves");
      references = response.ok ? await response.json() : [];
    }
    return references.filter((c) => c.metrics[metric]).map((c) => ({
      x: c.bpp, y: c.metrics[metric], name: `${c.name} (${c.label})`, mode: "lines", type: "scatter",
      line: { dash: "dot", width: 1 }, hovertemplate: "%{fullData.name}<br>%{x:.4f} bpp<br>%{y:.4f}<extra></extra>",
    }));
  }

  async function fillBdTable() {
    const metric = metricSelect.value;
    const response = await fetch(`/api/v1/jobs/${jobId}/bd-rate?anchor=${encodeURIComponent(anchorSelect.value)}&metric=${encodeURIComponent(metric)}`);
    const body = document.querySelector("#bd-table tbody");
    body.innerHTML = "";
    if (!response.ok) return;
    const bd = await response.json();
    for (const row of bd.rows) {
      const tr = document.createElement("tr");
      const rate = row.bd_rate.value === null ? "n/a" : `${row.bd_rate.value.toFixed(2)} %`;
      const quality = row.bd_quality.value === null ? "n/a" : `${row.bd_quality.value.toFixed(4)} ${metric}`;
      const note = row.bd_rate.reason || row.bd_quality.reason || "";
      for (const c of [row.codec, rate, quality, note]) {
        const td = document.createElement("td"); td.textContent = c; tr.appendChild(td);
      }
      body.appendChild(tr);
    }
  }

  function fmt(v, digits) { return v === null || v === undefined ? "n/a" : Number(v).toFixed(digits); }

  async function drawPlot() {
    const metric = metricSelect.value;
    const perImage = imageSelect.value !== "";
    const response = await fetch(`/api/v1/jobs/${jobId}/rd?metric=${encodeURIComponent(metric)}&per_image=${perImage}`);
    if (!response.ok) return;
    const rd = await response.json();
    const curves = perImage ? rd.curves.filter((c) => String(c.image_id) === imageSelect.value) : rd.curves;
    const traces = curves.map((c) => ({
      x: c.points.map((p) => p.bpp), y: c.points.map((p) => p.value), name: c.codec,
      mode: "lines+markers", type: "scatter",
      text: c.points.map((p) => `rate point ${p.rate_point}, ${p.images} image(s)`),
      hovertemplate: "%{fullData.name}<br>%{x:.4f} bpp<br>%{y:.4f}<br>%{text}<extra></extra>",
    }));
    const title = perImage ? names[imageSelect.value] : "mean over images";
    const all = traces.concat(await referenceTraces(metric));
    Plotly.react("rd-plot", all, {
      title: { text: `${metric} vs bpp (${title})` }, xaxis: { title: { text: "bits per pixel" } }, yaxis: { title: { text: metric } },
      legend: { orientation: "h", y: -0.22 }, margin: { t: 50, b: 110 },
    }, { responsive: true });
  }

  async function fillTable() {
    const response = await fetch(`/api/v1/jobs/${jobId}/results`);
    if (!response.ok) return;
    const rows = await response.json();
    const body = document.querySelector("#results-table tbody");
    body.innerHTML = "";
    for (const r of rows) {
      const tr = document.createElement("tr");
      const cells = [names[r.image_id] || r.image_id, r.codec, r.rate_point, r.bytes, fmt(r.bpp, 4)]
        .concat(window.LICBENCH_METRICS.map((m) => fmt(r.metrics[m], 4)))
        .concat([fmt(r.encode_seconds, 3), fmt(r.decode_seconds, 3)]);
      for (const c of cells) { const td = document.createElement("td"); td.textContent = c; tr.appendChild(td); }
      const link = document.createElement("td");
      link.innerHTML = `<a href="/api/v1/results/${r.id}/reconstruction" target="_blank">reconstruction</a>`;
      tr.appendChild(link);
      body.appendChild(tr);
    }
  }

  async function poll() {
    const response = await fetch(`/api/v1/jobs/${jobId}`);
    if (!response.ok) return;
    const job = await response.json();
    document.getElementById("job-status").textContent = job.status;
    document.getElementById("job-status").className = `status-${job.status}`;
    document.getElementById("job-progress").textContent = `${job.progress.done}/${job.progress.total}`;
    const bar = document.getElementById("job-progress-bar");
    bar.max = job.progress.total; bar.value = job.progress.done;
    document.getElementById("job-error").textContent = job.error || "";
    const active = window.LICBENCH_ACTIVE_STATUSES.includes(job.status);
    document.getElementById("cancel-job").hidden = !active;
    if (job.progress.done !== lastDone) {
      lastDone = job.progress.done;
      await Promise.all([drawPlot(), fillTable(), fillBdTable()]);
    }
    if (active) setTimeout(poll, 1500);
  }

  metricSelect.addEventListener("change", () => { drawPlot(); fillBdTable(); });
  anchorSelect.addEventListener("change", fillBdTable);
  referenceBox.addEventListener("change", drawPlot);
  imageSelect.addEventListener("change", drawPlot);
  document.getElementById("cancel-job").addEventListener("click", async () => {
    await fetch(`/api/v1/jobs/${jobId}/cancel`, { method: "POST" });
    poll();
  });
  poll();
})();

// Job page: live progress, interactive Plotly RD plot and the results table.
(function () {
  const jobId = document.getElementById("job").dataset.jobId;
  const metricSelect = document.getElementById("rd-metric");
  const imageSelect = document.getElementById("rd-image");
  const names = Object.fromEntries(window.LICBENCH_IMAGE_IDS.map((id, i) => [id, window.LICBENCH_IMAGES[i]]));
  const anchorSelect = document.getElementById("bd-anchor");
  const referenceBox = document.getElementById("rd-references");
  const xscaleSelect = document.getElementById("rd-xscale");
  let lastDone = -1;
  // While the job runs, only the cheap GET /jobs/{id} is polled; results, RD curves and BD-rates are read again at
  // most every REFRESH_WHILE_RUNNING_MS (when progress moved) and once more when the job has finished.
  const REFRESH_WHILE_RUNNING_MS = 15000;
  const TABLE_ROWS = 1000;  // the table holds the first page of results; the CSV link has them all
  let lastRefresh = 0;
  let totalRows = 0;
  let references = null;
  let allRows = [];  // every result row of the job (the table pages, sorts and filters them here)
  const view = { page: 0, sort: null, desc: false };

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
    const image = imageSelect.value;
    document.getElementById("bd-scope").textContent = image ? `(image ${names[image]})` : "(mean curves)";
    const response = await fetch(`/api/v1/jobs/${jobId}/bd-rate?anchor=${encodeURIComponent(anchorSelect.value)}&metric=${encodeURIComponent(metric)}${image ? `&image_id=${image}` : ""}`);
    const body = document.querySelector("#bd-table tbody");
    body.innerHTML = "";
    if (!response.ok) return;
    const bd = await response.json();
    for (const row of bd.rows) {
      const tr = document.createElement("tr");
      const rate = row.bd_rate.value === null ? "n/a" : `${row.bd_rate.value.toFixed(2)} %`;
      const quality = row.bd_quality.value === null ? "n/a" : `${row.bd_quality.value.toFixed(4)} ${metric}`;
      const note = row.bd_rate.reason || row.bd_quality.reason || "";
      const images = row.images === null || row.images === undefined ? "" : `${row.images}`;
      for (const c of [row.codec, rate, quality, images, note]) {
        const td = document.createElement("td"); td.textContent = c; tr.appendChild(td);
      }
      body.appendChild(tr);
    }
  }

  function fmt(v, digits) { return v === null || v === undefined ? "n/a" : Number(v).toFixed(digits); }

  async function drawPlot() {
    const metric = metricSelect.value;
    const perImage = imageSelect.value !== "";
    const response = await fetch(`/api/v1/jobs/${jobId}/rd?metric=${encodeURIComponent(metric)}&per_image=${perImage}` +
                                 (perImage ? `&image_id=${imageSelect.value}` : ""));
    if (!response.ok) return;
    const rd = await response.json();
    const curves = perImage ? rd.curves.filter((c) => String(c.image_id) === imageSelect.value) : rd.curves;
    const traces = curves.map((c) => ({
      x: c.points.map((p) => p.bpp), y: c.points.map((p) => p.value), name: c.codec,
      customdata: c.points.map((p) => [c.codec, p.rate_point, c.image_id]),
      mode: "lines+markers", type: "scatter",
      text: c.points.map((p) => `rate point ${p.rate_point}, ${p.images} image(s)`),
      hovertemplate: "%{fullData.name}<br>%{x:.4f} bpp<br>%{y:.4f}<br>%{text}<extra></extra>",
    }));
    const title = perImage ? names[imageSelect.value] : "mean over images";
    const all = traces.concat(await referenceTraces(metric));
    // The legend sits right of the plot, so long reference-curve names never cover the axis titles.
    Plotly.react("rd-plot", all, {
      title: { text: `${metric} vs bpp (${title})` },
      xaxis: { title: { text: "bits per pixel" }, type: xscaleSelect.value, automargin: true },
      yaxis: { title: { text: metric }, automargin: true },
      legend: { orientation: "v", x: 1.02, y: 1, xanchor: "left" }, margin: { t: 50, b: 60, r: 10 },
    }, { responsive: true });
    const plot = document.getElementById("rd-plot");
    if (!plot.dataset.clickBound) {
      plot.dataset.clickBound = "1";
      plot.on("plotly_click", (event) => {
        const point = event.points && event.points[0];
        if (!point || !point.customdata) return;
        const [codec, ratePoint, imageId] = point.customdata;
        const match = allRows.find((r) => r.codec === codec && r.rate_point === ratePoint &&
                                          (imageId === null || imageId === undefined || r.image_id === imageId));
        if (match) window.location.href = `/results/${match.id}`;
      });
    }
  }

  async function fillTable() {
    const response = await fetch(`/api/v1/jobs/${jobId}/results?limit=${TABLE_ROWS}`);
    if (!response.ok) return;
    allRows = await response.json();
    totalRows = Number(response.headers.get("X-Total-Count") || allRows.length);
    renderTable();
  }

  function sortValue(r, key) {
    if (key === "filename") return names[r.image_id] || "";
    if (key.startsWith("metric:")) { const v = r.metrics[key.slice(7)]; return v === null || v === undefined ? -Infinity : v; }
    return r[key];
  }
  function renderTable() {
    const codec = document.getElementById("filter-codec").value, image = document.getElementById("filter-image").value;
    const size = Number(document.getElementById("page-size").value);
    let rows = allRows.filter((r) => (!codec || r.codec === codec) && (!image || String(r.image_id) === image));
    if (view.sort) {
      rows = rows.slice().sort((a, b) => {
        const x = sortValue(a, view.sort), y = sortValue(b, view.sort);
        return (x < y ? -1 : x > y ? 1 : 0) * (view.desc ? -1 : 1);
      });
    }
    const pages = Math.max(1, Math.ceil(rows.length / size));
    view.page = Math.min(view.page, pages - 1);
    const more = totalRows > allRows.length ? ` (the first ${allRows.length} of ${totalRows}; the CSV has all)` : "";
    document.getElementById("page-info").textContent = `page ${view.page + 1} of ${pages} · ${rows.length} rows${more}`;
    document.getElementById("page-prev").disabled = view.page === 0;
    document.getElementById("page-next").disabled = view.page >= pages - 1;
    for (const th of document.querySelectorAll("#results-table th.sortable")) {
      th.classList.toggle("sorted-asc", th.dataset.key === view.sort && !view.desc);
      th.classList.toggle("sorted-desc", th.dataset.key === view.sort && view.desc);
    }
    const body = document.querySelector("#results-table tbody");
    body.innerHTML = "";
    for (const r of rows.slice(view.page * size, (view.page + 1) * size)) {
      const tr = document.createElement("tr");
      const cells = [names[r.image_id] || r.image_id, r.codec, r.rate_point, r.bytes, fmt(r.bpp, 4)]
        .concat(window.LICBENCH_METRICS.map((m) => fmt(r.metrics[m], 4)))
        .concat([fmt(r.encode_seconds, 3), fmt(r.decode_seconds, 3)]);
      for (const c of cells) { const td = document.createElement("td"); td.textContent = c; tr.appendChild(td); }
      const link = document.createElement("td");
      link.innerHTML = `<a href="/results/${r.id}" class="viewer-link">view</a> · <a href="/api/v1/results/${r.id}/reconstruction" target="_blank">PNG</a>`;
      tr.appendChild(link);
      tr.dataset.resultId = r.id;
      tr.addEventListener("click", (e) => { if (!e.target.closest("a")) window.location.href = `/results/${r.id}`; });
      body.appendChild(tr);
    }
  }
  for (const id of ["filter-codec", "filter-image", "page-size"]) {
    document.getElementById(id).addEventListener("change", () => { view.page = 0; renderTable(); });
  }
  document.getElementById("page-prev").addEventListener("click", () => { view.page -= 1; renderTable(); });
  document.getElementById("page-next").addEventListener("click", () => { view.page += 1; renderTable(); });
  for (const th of document.querySelectorAll("#results-table th.sortable")) {
    th.addEventListener("click", () => {
      view.desc = view.sort === th.dataset.key ? !view.desc : false;
      view.sort = th.dataset.key; renderTable();
    });
  }

  function when(id, iso) {
    const el = document.getElementById(id);
    if (iso) el.dataset.time = iso;
    el.textContent = el.dataset.time ? new Date(el.dataset.time).toLocaleString() : "–";
    return el.dataset.time ? new Date(el.dataset.time) : null;
  }
  function seconds(s) {
    if (s < 90) return `${Math.round(s)} s`;
    if (s < 5400) return `${Math.round(s / 60)} min`;
    return `${(s / 3600).toFixed(1)} h`;
  }
  function showTimes(job, active) {
    when("job-created", job.created_at);
    const started = when("job-started", job.started_at), finished = when("job-finished", job.finished_at);
    const end = finished || new Date();
    document.getElementById("job-duration").textContent = started ? seconds((end - started) / 1000) : "–";
    const eta = document.getElementById("job-eta");
    const left = job.estimated_seconds_left;  // weighted by each rate point's estimated cost
    if (active && left !== null && left !== undefined) {
      eta.textContent = `about ${seconds(left)} left`;
    } else { eta.textContent = ""; }
  }

  async function showRunningTasks(active) {
    const line = document.getElementById("job-running");
    if (!active) { line.textContent = ""; return; }
    const response = await fetch(`/api/v1/jobs/${jobId}/tasks?state=running&limit=20`);
    if (!response.ok) return;
    const tasks = await response.json();
    line.textContent = tasks.length ? "Running: " + tasks.map((t) =>
      `${t.codec} on ${names[t.image_id] || `image ${t.image_id}`} (${t.rate_points_done ?? 0}/${t.rate_points.length} rate points)`
    ).join(" · ") : "";
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
    const deleteButton = document.getElementById("delete-job");
    if (deleteButton) deleteButton.hidden = active;
    const retryButton = document.getElementById("retry-job");
    if (retryButton) retryButton.hidden = job.status !== "failed";
    showTimes(job, active);
    await showRunningTasks(active);
    const due = !active || Date.now() - lastRefresh >= REFRESH_WHILE_RUNNING_MS;
    if (job.progress.done !== lastDone && due) {
      lastDone = job.progress.done;
      lastRefresh = Date.now();
      await Promise.all([drawPlot(), fillTable(), fillBdTable()]);
    }
    if (active) setTimeout(poll, 1500);
  }

  metricSelect.addEventListener("change", () => { drawPlot(); fillBdTable(); });
  anchorSelect.addEventListener("change", fillBdTable);
  referenceBox.addEventListener("change", drawPlot);
  imageSelect.addEventListener("change", () => { drawPlot(); fillBdTable(); });
  xscaleSelect.addEventListener("change", drawPlot);
  const deleteButton = document.getElementById("delete-job");
  if (deleteButton) deleteButton.addEventListener("click", async () => {
    if (!window.confirm("Delete this job, its results and reconstructions?")) return;
    const response = await fetch(`/api/v1/jobs/${jobId}`, { method: "DELETE" });
    if (response.ok) { window.location.href = "/jobs"; return; }
    const body = await response.json();
    document.getElementById("job-error").textContent = body.detail || response.statusText;
  });
  const retryButton = document.getElementById("retry-job");
  if (retryButton) retryButton.addEventListener("click", async () => {
    retryButton.disabled = true;
    const response = await fetch(`/api/v1/jobs/${jobId}/retry`, { method: "POST" });
    const body = await response.json();
    retryButton.disabled = false;
    if (!response.ok) { document.getElementById("job-error").textContent = body.detail || response.statusText; return; }
    poll();
  });
  document.getElementById("cancel-job").addEventListener("click", async () => {
    await fetch(`/api/v1/jobs/${jobId}/cancel`, { method: "POST" });
    poll();
  });
  poll();
})();

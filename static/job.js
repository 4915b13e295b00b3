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
  let lastCounted = -1;  // the task counts are read again only when progress moved
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
    // One legend group: its title toggles them all, a click on one entry toggles that curve alone.
    return references.filter((c) => c.metrics[metric]).map((c) => ({
      x: c.bpp, y: c.metrics[metric], name: `${c.name} (${c.label})`, mode: "lines", type: "scatter",
      legendgroup: "published", legendgrouptitle: { text: "Published (CompressAI, Kodak)" },
      line: { dash: "dot", width: 1 }, hovertemplate: "%{fullData.name}<br>%{x:.4f} bpp<br>%{y:.4f}<extra></extra>",
    }));
  }

  async function fillBdTable() {
    const metric = metricSelect.value;
    const image = imageSelect.value;
    document.getElementById("bd-scope").textContent = image ? `(${names[image]})` : "(mean curves)";
    const response = await fetch(`/api/v1/jobs/${jobId}/bd-rate?anchor=${encodeURIComponent(anchorSelect.value)}&metric=${encodeURIComponent(metric)}${image ? `&image_id=${image}` : ""}`);
    const body = document.querySelector("#bd-table tbody");
    const pendingNote = document.getElementById("bd-pending");
    body.innerHTML = "";
    pendingNote.textContent = "";
    if (!response.ok) return;
    const bd = await response.json();
    const unit = unitOf(metric);
    // Rows that cannot be computed yet (a codec without finished images, or the anchor itself) are named once
    // below the table, not as one "n/a" row each.
    const waiting = [];
    for (const row of bd.rows) {
      if (row.codec === bd.anchor) continue;
      if (row.bd_rate.value === null && row.bd_quality.value === null && (bd.pending_codecs || []).includes(row.codec)) {
        waiting.push(row.codec); continue;
      }
      const tr = document.createElement("tr");
      const rate = row.bd_rate.value === null ? "n/a" : `${fmt(row.bd_rate.value, 2)} %`;
      const quality = row.bd_quality.value === null ? "n/a" : `${fmt(row.bd_quality.value, 4)} ${unit || metric}`;
      const note = row.bd_rate.reason || row.bd_quality.reason || "";
      const images = row.images === null || row.images === undefined ? "" : `${row.images}`;
      for (const c of [row.codec, rate, quality, images, note]) {
        const td = document.createElement("td"); td.textContent = c; tr.appendChild(td);
      }
      body.appendChild(tr);
    }
    const parts = [];
    if (!image && bd.images_common !== null && bd.images_common !== undefined) {
      parts.push(`Computed on ${bd.images_common} of ${bd.images_total} image(s)` +
                 (bd.complete ? "." : ": those every listed codec has finished, so all curves average the same images."));
    }
    if (waiting.length) parts.push(`Not computable yet (no finished image in common): ${waiting.join(", ")}.`);
    pendingNote.textContent = parts.join(" ");
  }

  // Fixed digits without "-0.000": a value that rounds to zero prints as zero.
  function fmt(v, digits) {
    if (v === null || v === undefined) return "n/a";
    const text = Number(v).toFixed(digits);
    return Number(text) === 0 ? (0).toFixed(digits) : text;
  }

  let units = null;  // metric name -> unit, from /api/v1/metrics
  async function loadUnits() {
    if (units !== null) return;
    const response = await fetch("/api/v1/metrics");
    units = {};
    if (response.ok) for (const m of await response.json()) units[m.name] = m.unit;
  }
  function unitOf(metric) { return units && units[metric] && units[metric] !== "index" ? units[metric] : ""; }
  function inDb() { const box = document.getElementById("rd-msssim-db"); return box && box.checked; }
  // MS-SSIM in dB, as papers plot it: -10 log10(1 - MS-SSIM).
  function display(metric, v) { return metric === "ms-ssim" && inDb() ? -10 * Math.log10(Math.max(1e-12, 1 - v)) : v; }
  function axisTitle(metric) {
    if (metric === "ms-ssim" && inDb()) return "MS-SSIM (dB) = −10 log10(1 − MS-SSIM)";
    const unit = unitOf(metric);
    return unit ? `${metric} (${unit})` : metric;
  }
  // Log-scale bpp ticks as bpp values (0.05, 0.1, 0.2, ...), never Plotly's bare "2 3 4" minor labels.
  function logTicks(xs) {
    const lo = Math.min(...xs), hi = Math.max(...xs);
    const ticks = [];
    for (let e = -3; e <= 2; e += 1) for (const m of [1, 2, 5]) {
      const t = m * 10 ** e;
      if (t >= lo / 1.5 && t <= hi * 1.5) ticks.push(Number(t.toPrecision(1)));
    }
    return { tickvals: ticks, ticktext: ticks.map((t) => String(t)) };
  }
  function quantile(sorted, q) {
    const pos = (sorted.length - 1) * q, i = Math.floor(pos), f = pos - i;
    return i + 1 < sorted.length ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i];
  }
  // Interquartile band of the per-image values at each mean point, over the images the mean curves average.
  async function spreadTraces(metric, meanCurves) {
    const box = document.getElementById("rd-spread");
    if (!box || !box.checked || !meanCurves.length) return [];
    const response = await fetch(`/api/v1/jobs/${jobId}/rd?metric=${encodeURIComponent(metric)}&per_image=true`);
    if (!response.ok) return [];
    const perImage = await response.json();
    const byCodec = {};
    for (const c of perImage.curves) (byCodec[c.codec] = byCodec[c.codec] || []).push(c);
    // images every plotted codec has at all of its mean curve's rate points
    let common = null;
    for (const mean of meanCurves) {
      const need = new Set(mean.points.map((p) => p.rate_point));
      const have = new Set((byCodec[mean.codec] || []).filter((c) => [...need].every(
        (r) => c.points.some((p) => p.rate_point === r))).map((c) => c.image_id));
      common = common === null ? have : new Set([...common].filter((i) => have.has(i)));
    }
    const traces = [];
    meanCurves.forEach((mean, index) => {
      const lows = [], highs = [], xs = [];
      for (const p of mean.points) {
        const values = (byCodec[mean.codec] || []).filter((c) => common.has(c.image_id))
          .map((c) => c.points.find((q) => q.rate_point === p.rate_point)).filter(Boolean)
          .map((q) => display(metric, q.value)).sort((a, b) => a - b);
        if (!values.length) continue;
        xs.push(p.bpp); lows.push(quantile(values, 0.25)); highs.push(quantile(values, 0.75));
      }
      const colour = PALETTE[index % PALETTE.length];
      traces.push({ x: xs, y: lows, mode: "lines", line: { width: 0, color: colour }, showlegend: false,
                    legendgroup: mean.codec, hoverinfo: "skip", type: "scatter" });
      traces.push({ x: xs, y: highs, mode: "lines", line: { width: 0, color: colour }, fill: "tonexty",
                    fillcolor: colour.replace("rgb", "rgba").replace(")", ", 0.15)"), showlegend: false,
                    legendgroup: mean.codec, hoverinfo: "skip", type: "scatter" });
    });
    return traces;
  }
  const PALETTE = ["rgb(31, 119, 180)", "rgb(255, 127, 14)", "rgb(44, 160, 44)", "rgb(214, 39, 40)",
                   "rgb(148, 103, 189)", "rgb(140, 86, 75)", "rgb(227, 119, 194)", "rgb(127, 127, 127)",
                   "rgb(188, 189, 34)", "rgb(23, 190, 207)"];

  async function drawPlot() {
    const metric = metricSelect.value;
    const perImage = imageSelect.value !== "";
    const response = await fetch(`/api/v1/jobs/${jobId}/rd?metric=${encodeURIComponent(metric)}&per_image=${perImage}` +
                                 (perImage ? `&image_id=${imageSelect.value}` : ""));
    if (!response.ok) return;
    await loadUnits();
    const rd = await response.json();
    const curves = perImage ? rd.curves.filter((c) => String(c.image_id) === imageSelect.value) : rd.curves;
    const traces = curves.map((c, index) => ({
      x: c.points.map((p) => p.bpp), y: c.points.map((p) => display(metric, p.value)), name: c.codec,
      legendgroup: c.codec, line: { color: PALETTE[index % PALETTE.length] },
      customdata: c.points.map((p) => [c.codec, p.rate_point, c.image_id]),
      mode: "lines+markers", type: "scatter",
      // incomplete points (fewer images than the set has) are drawn open
      marker: { symbol: c.points.map((p) => (p.complete === false ? "circle-open" : "circle")), size: 7 },
      text: c.points.map((p) => `rate point ${p.rate_point}, ${p.images} image(s)${p.complete === false ? " (incomplete)" : ""}`),
      hovertemplate: "%{fullData.name}<br>%{x:.4f} bpp<br>%{y:.4f}<br>%{text}<extra></extra>",
    }));
    const subset = document.getElementById("rd-subset");
    if (!perImage && rd.images_total) {
      subset.textContent = rd.complete ? "" :
        `Partial results: every mean point averages the same ${rd.images_common} of ${rd.images_total} image(s), ` +
        "those every plotted codec has finished; open markers are incomplete points." +
        (rd.pending_codecs.length ? ` Not plotted yet: ${rd.pending_codecs.join(", ")}.` : "");
    } else { subset.textContent = ""; }
    const title = perImage ? names[imageSelect.value] : "mean over images";
    const all = (perImage ? [] : await spreadTraces(metric, curves)).concat(traces, await referenceTraces(metric));
    const xs = curves.flatMap((c) => c.points.map((p) => p.bpp)).filter((x) => x > 0);
    const xaxis = { title: { text: "bits per pixel (bpp)" }, type: xscaleSelect.value, automargin: true };
    if (xscaleSelect.value === "log" && xs.length) Object.assign(xaxis, logTicks(xs));
    // The legend sits right of the plot, so long reference-curve names never cover the axis titles.
    Plotly.react("rd-plot", all, {
      title: { text: `${metric} vs bpp (${title})` },
      xaxis, yaxis: { title: { text: axisTitle(metric) }, automargin: true },
      legend: { orientation: "v", x: 1.02, y: 1, xanchor: "left", groupclick: "toggleitem" },
      margin: { t: 50, b: 60, r: 10 },
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

  // Tasks done of total (a task = one image with one codec), from the tasks API's totals.
  async function showTaskCounts() {
    const count = async (state) => {
      const response = await fetch(`/api/v1/jobs/${jobId}/tasks?limit=1${state ? `&state=${state}` : ""}`);
      return response.ok ? Number(response.headers.get("X-Total-Count")) : null;
    };
    const [done, total] = await Promise.all([count("done"), count("")]);
    if (done !== null && total !== null) document.getElementById("job-tasks").textContent = `${done}/${total}`;
  }

  // A queued job says what it waits for: jobs take turns on the workers (engine/scheduling.py), so its first task
  // starts when any running task ends; without a live worker, nothing starts.
  async function showWaiting(job) {
    const line = document.getElementById("job-waiting");
    if (job.status !== "queued") { line.textContent = ""; return; }
    const response = await fetch("/api/v1/health");
    const health = await response.json().catch(() => ({}));
    if (health.workers && !health.workers.alive) {
      line.textContent = "Queued, but no worker is running: start one (`licbench worker`, or `make run`).";
      return;
    }
    const waiting = health.tasks_waiting;
    line.textContent = "Queued: jobs take turns on the workers, so this job's first task starts as soon as one " +
      "running task of another job ends" + (waiting ? ` (${waiting} task(s) of all jobs wait or run now).` : ".");
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
    if (job.progress.done !== lastCounted) { lastCounted = job.progress.done; showTaskCounts(); }
    showWaiting(job);
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
  for (const id of ["rd-spread", "rd-msssim-db"]) {
    const box = document.getElementById(id);
    if (box) box.addEventListener("change", drawPlot);
  }
  // Figures for a paper: SVG at one column (3.5 in) or two columns (7.16 in), 8 pt text. In an SVG a user
  // unit is 1/72 in (1 pt) when printed at its natural size, so the width in points is 72 x inches.
  for (const [id, inches] of [["export-1col", 3.5], ["export-2col", 7.16]]) {
    const button = document.getElementById(id);
    if (!button) continue;
    button.addEventListener("click", async () => {
      const plot = document.getElementById("rd-plot");
      const width = Math.round(72 * inches), height = Math.round(width * (inches < 5 ? 0.8 : 0.5));
      const metric = metricSelect.value;
      const figure = {
        data: plot.data,
        layout: Object.assign({}, plot.layout, {
          title: { text: "" }, width, height, font: { size: 8, family: "Helvetica, Arial, sans-serif" },
          margin: { l: 40, r: 4, t: 6, b: 30 }, showlegend: true,
          legend: { font: { size: 8 }, orientation: "v", x: 1, xanchor: "right", y: 0, yanchor: "bottom",
                    bgcolor: "rgba(255,255,255,0.7)" },
          xaxis: Object.assign({}, plot.layout.xaxis, { title: { text: "bits per pixel (bpp)", font: { size: 8 } },
                                                        tickfont: { size: 8 } }),
          yaxis: Object.assign({}, plot.layout.yaxis, { title: { text: axisTitle(metric), font: { size: 8 } },
                                                        tickfont: { size: 8 } }),
        }),
      };
      await Plotly.downloadImage(figure, { format: "svg", width, height,
                                           filename: `job${jobId}-${metric}-${inches < 5 ? "1col" : "2col"}` });
    });
  }
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

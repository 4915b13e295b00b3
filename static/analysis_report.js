// Metric report card: ranking with intervals and significance marks, scatter with the fitted logistic,
// worst disagreements, codec-family bias, gMAD summary. Data from {api}/report (202 while scoring).
(function () {
  const root = document.getElementById("report");
  const api = root.dataset.api;
  const statusLine = document.getElementById("report-status");
  const fitSelect = document.getElementById("report-fit");
  let report = null;
  let units = {};  // metric name -> unit, from /api/v1/metrics (names a data set brings may have none)
  // ITU-R BT.500: at least 15 observers; fewer than 20 stimuli give correlations too wide to rank metrics.
  const MIN_OBSERVERS = 15, MIN_STIMULI = 20;
  const scoresOnly = root.dataset.scoresOnly === "true";  // a data set without images (aic4): nothing to show

  const fmt = (v, d = 3) => (v === null || v === undefined || Number.isNaN(v)) ? "–" : Number(v).toFixed(d);
  const ci = (c) => c ? ` [${fmt(c[0])}, ${fmt(c[1])}]` : "";
  const el = (tag, attrs = {}, text) => {
    const e = document.createElement(tag);
    Object.entries(attrs).forEach(([k, v]) => e.setAttribute(k, v));
    if (text !== undefined) e.textContent = text;
    return e;
  };

  function logistic(form, p, x) {
    if (form === "logistic4") {
      const z = Math.max(-500, Math.min(500, -(x - p[2]) / Math.abs(p[3])));
      return (p[0] - p[1]) / (1 + Math.exp(z)) + p[1];
    }
    const z = Math.max(-500, Math.min(500, p[1] * (x - p[2])));
    return p[0] * (0.5 - 1 / (1 + Math.exp(z))) + p[3] * x + p[4];
  }

  function significance(best, name) {
    if (!report || best === name) return "";
    const c = report.correlation.comparisons.find((c) => (c.a === best && c.b === name) || (c.a === name && c.b === best));
    if (!c || c.p_williams === null || c.p_williams === undefined) return "";
    return c.p_williams < 0.05 ? "*" : "≈";
  }

  function renderRanking() {
    const body = document.querySelector("#ranking tbody");
    body.innerHTML = "";
    const rows = report.correlation.metrics;
    const best = rows.length ? rows[0].metric : null;
    rows.forEach((r, i) => {
      const tr = el("tr", {"data-metric": r.metric});
      const mark = significance(best, r.metric);
      const note = [r.flipped ? "flipped (lower is better)" : "", r.fit && r.fit.failed ? "fit failed: unfitted PLCC" : "",
                    r.reason || "", r.two_afc ? `2AFC agreement ${fmt(r.two_afc.share)}${ci(r.two_afc.ci)} over ${r.two_afc.n} pairs` : ""]
        .filter(Boolean).join("; ");
      [String(i + 1), r.metric, String(r.n), fmt(r.srocc) + ci(r.srocc_ci), fmt(r.krocc), fmt(r.plcc) + ci(r.plcc_ci),
       fmt(r.rmse), mark, note].forEach((text, j) => {
        const td = el("td", {}, text);
        if (j === 7) td.className = mark === "*" ? "sig-worse" : "sig-same";
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    document.getElementById("ranking-section").hidden = false;
  }

  function renderScatter() {
    const select = document.getElementById("scatter-metric");
    const metric = select.value;
    const row = report.correlation.metrics.find((r) => r.metric === metric);
    const groups = {};
    report.points.forEach((p) => {
      const v = p.metrics[metric];
      if (v === null || v === undefined) return;
      const key = p.distortion || p.family || "all";
      (groups[key] = groups[key] || []).push(p);
    });
    const traces = Object.entries(groups).map(([key, pts]) => ({
      type: "scatter", mode: "markers", name: key, x: pts.map((p) => p.metrics[metric]), y: pts.map((p) => p.human),
      customdata: pts.map((p) => [p.image_url, p.reference_url, `${p.condition} · ${p.image_name || p.image}`]),
      text: pts.map((p) => `${p.image_name || p.image}<br>${p.codec || p.condition}${p.bpp != null ? `<br>${fmt(p.bpp)} bpp` : ""}`),
      hovertemplate: "%{text}<br>" + metric + " %{x:.4g}<br>human %{y:.3g}<extra>%{fullData.name}</extra>",
    }));
    if (row && row.fit && !row.fit.failed && row.fit.params) {
      const xs = report.points.map((p) => p.metrics[metric]).filter((v) => v !== null && v !== undefined);
      const lo = Math.min(...xs), hi = Math.max(...xs), sign = row.flipped ? -1 : 1;
      const cx = [], cy = [];
      const steps = 400;  // dense enough to read as a smooth curve at any zoom of the plot
      for (let i = 0; i <= steps; i++) {
        const x = lo + (hi - lo) * i / steps;
        cx.push(x); cy.push(logistic(row.fit.form, row.fit.params, sign * x));
      }
      traces.push({type: "scatter", mode: "lines", name: `fitted ${row.fit.form}`, x: cx, y: cy, hoverinfo: "skip",
                   line: {color: "#333", width: 2, shape: "spline"}});
    }
    const plot = document.getElementById("scatter-plot");
    const unit = units[metric] && units[metric] !== "index" ? ` (${units[metric]})` : "";
    Plotly.react(plot, traces, {xaxis: {title: {text: `${metric}${unit}`}, automargin: true},
                                yaxis: {title: {text: `human score (${report.unit})`}, automargin: true},
                                margin: {t: 20}, legend: {orientation: "h", y: -0.2}}, {responsive: true});
    plot.removeAllListeners && plot.removeAllListeners("plotly_click");
    plot.on("plotly_click", (ev) => {
      const d = ev.points[0] && ev.points[0].customdata;
      if (!d || (!d[0] && !d[1])) return;  // scores only: no images to show
      // the pair is built on the first click only: no empty <img> placeholders before
      const view = document.getElementById("pair-view");
      view.innerHTML = "";
      if (d[0]) view.appendChild(figure(d[0], d[2], "pair-image"));
      if (d[1]) view.appendChild(figure(d[1], "reference", "pair-reference"));
      view.hidden = false;
    });
  }

  function figure(url, caption, id) {
    const f = el("figure");
    if (url) f.appendChild(el("img", Object.assign({src: url, alt: caption, loading: "lazy"}, id ? {id} : {})));
    else f.appendChild(el("p", {class: "note"}, "(no image: scores only)"));
    f.appendChild(el("figcaption", {}, caption));
    return f;
  }

  function warnSmall() {
    const box = document.getElementById("report-warning");
    const notes = [];
    const stimuli = report.correlation.n;
    const observers = root.dataset.observers === "" ? null : Number(root.dataset.observers);
    if (report.unit !== "2AFC" && stimuli < MIN_STIMULI) {
      notes.push(`Only ${stimuli} stimuli (fewer than ${MIN_STIMULI}): intervals are wide and the ranking is fragile.`);
    }
    if (observers !== null && observers < MIN_OBSERVERS) {
      notes.push(`Only ${observers} complete observer session(s) (ITU-R BT.500 asks for at least ${MIN_OBSERVERS}).`);
    }
    box.textContent = notes.join(" ");
    box.hidden = notes.length === 0;
  }

  function renderWorst() {
    const box = document.getElementById("worst");
    box.innerHTML = "";
    report.metrics.forEach((m) => {
      const section = el("div", {class: "worst-metric", "data-metric": m.metric});
      section.appendChild(el("h3", {}, m.metric + (m.fit_failed ? " (fit failed: residuals not available)" : "")));
      m.worst.forEach((w) => {
        const line = el("div", {class: "worst-row worst-residual"});
        if (w.image_url) {
          line.appendChild(figure(w.image_url, `${w.condition} · ${w.image_name || w.image}`));
          line.appendChild(figure(w.reference_url, "reference"));
        } else {
          line.appendChild(el("p", {class: "worst-item"}, `${w.condition}${w.codec ? ` (${w.codec})` : ""}`));
        }
        line.appendChild(el("p", {}, `${m.metric} ${fmt(w.metric_value, 4)} predicts ${fmt(w.predicted)} ${report.unit}; ` +
                                      `people: ${fmt(w.human)} (residual ${fmt(w.residual)})`));
        section.appendChild(line);
      });
      m.contradicting_pairs.forEach((p) => {
        const line = el("div", {class: "worst-row worst-pair"});
        const better = `people prefer: ${p.better.condition} (${fmt(p.better.human)})`;
        const worse = `over: ${p.worse.condition} (${fmt(p.worse.human)})`;
        if (p.better.image_url) {
          line.appendChild(figure(p.better.image_url, better));
          line.appendChild(figure(p.worse.image_url, worse));
        } else {
          line.appendChild(el("p", {class: "worst-item"}, `${better} ${worse}`));
        }
        line.appendChild(el("p", {}, `${m.metric} says the opposite: ${fmt(p.metric_better, 4)} vs ${fmt(p.metric_worse, 4)}`));
        section.appendChild(line);
      });
      if (!m.worst.length && !m.contradicting_pairs.length) section.appendChild(el("p", {class: "note"}, "nothing to show"));
      box.appendChild(section);
    });
    document.getElementById("worst-section").hidden = false;
  }

  function renderBias() {
    const body = document.querySelector("#bias tbody");
    body.innerHTML = "";
    report.metrics.forEach((m) => m.family_bias.forEach((b) => {
      const tr = el("tr");
      const reading = `${m.metric} ${b.mean_residual >= 0 ? "under" : "over"}-rates ${b.family} codecs by ${fmt(Math.abs(b.mean_residual), 2)} ${report.unit}`;
      [m.metric, b.family, String(b.n), fmt(b.mean_residual) + ci(b.ci), reading].forEach((t) => tr.appendChild(el("td", {}, t)));
      body.appendChild(tr);
    }));
    document.getElementById("bias-section").hidden = !body.children.length;
  }

  async function renderGmad() {
    if (root.dataset.gmad !== "true") return;
    const response = await fetch(`${api}/gmad`);
    if (!response.ok) return;
    const data = await response.json();
    const body = document.querySelector("#gmad-summary tbody");
    body.innerHTML = "";
    data.summary.forEach((s) => {
      const tr = el("tr");
      [s.metric, fmt(s.aggressiveness), fmt(s.resistance), String(s.n_attacks), String(s.n_defences)]
        .forEach((t) => tr.appendChild(el("td", {}, t)));
      body.appendChild(tr);
    });
    document.getElementById("gmad-section").hidden = false;
  }

  async function renderBreakdown() {
    const group = document.getElementById("breakdown-group").value;
    const response = await fetch(`${api}/correlation?group=${group}&fit=${fitSelect.value}`);
    if (response.status !== 200) return;
    const data = await response.json();
    const metrics = data.metrics.map((r) => r.metric);
    const head = document.querySelector("#breakdown thead");
    const body = document.querySelector("#breakdown tbody");
    head.innerHTML = ""; body.innerHTML = "";
    const tr = el("tr");
    [group, ...metrics].forEach((t) => tr.appendChild(el("th", {}, t)));
    head.appendChild(tr);
    Object.entries(data.groups).forEach(([key, rows]) => {
      const line = el("tr", {"data-group": key});
      line.appendChild(el("td", {}, key));
      // Within the group: * = significantly below the group's best metric (Williams' test p < 0.05).
      const best = rows.length && rows[0].srocc !== null ? rows[0].metric : null;
      const tests = (data.group_comparisons || {})[key] || [];
      metrics.forEach((m) => {
        const r = rows.find((x) => x.metric === m);
        const c = tests.find((t) => t.a === best && t.b === m);
        const mark = m === best ? " best" : (c && c.p_williams !== null && c.p_williams < 0.05 ? " *" : "");
        line.appendChild(el("td", {}, r ? `${fmt(r.srocc)}${ci(r.srocc_ci)} (${r.n})${mark}` : "–"));
      });
      body.appendChild(line);
    });
    document.getElementById("breakdown-section").hidden = false;
  }

  async function load() {
    const fit = fitSelect.value;
    document.getElementById("download-json").href = `${api}/report?fit=${fit}`;
    const response = await fetch(`${api}/report?fit=${fit}`);
    const data = await response.json();
    if (response.status === 202) {
      statusLine.textContent = `Scoring the judged images: ${data.done}/${data.total} … (refreshes by itself)`;
      setTimeout(load, 2000);
      return;
    }
    if (!response.ok) {
      statusLine.textContent = data.detail || `error ${response.status}`;
      statusLine.className = "error";
      return;
    }
    report = data;
    const observers = root.dataset.observers === "" ? "" : `; ${root.dataset.observers} observer session(s)`;
    statusLine.textContent = `n = ${report.correlation.n} ${report.unit === "2AFC" ? "judgements" : (scoresOnly ? "items" : "judged conditions")}` +
      `${observers}; human unit ${report.unit}; fit ${report.fit}.`;
    warnSmall();
    renderRanking();
    if (report.points.length) {
      const select = document.getElementById("scatter-metric");
      const previous = select.value;
      select.innerHTML = "";
      report.correlation.metrics.forEach((r) => select.appendChild(el("option", {value: r.metric}, r.metric)));
      if (previous) select.value = previous;
      document.getElementById("scatter-section").hidden = false;
      renderScatter();
    }
    if (report.unit !== "2AFC") {
      if (root.dataset.kind === "dataset") document.getElementById("breakdown-group").value = "distortion";
      renderBreakdown();
    }
    renderWorst();
    renderBias();
    renderGmad();
  }

  document.getElementById("scatter-metric").addEventListener("change", renderScatter);
  document.getElementById("breakdown-group").addEventListener("change", renderBreakdown);
  fitSelect.addEventListener("change", load);
  fetch("/api/v1/metrics").then((r) => (r.ok ? r.json() : [])).then((list) => {
    list.forEach((m) => { units[m.name] = m.unit; });
  }).catch(() => {}).finally(load);
})();

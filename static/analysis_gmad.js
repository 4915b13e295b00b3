// gMAD page: GET /api/v1/jobs/{id}/gmad shows the pairs side by side; the button POSTs .../gmad/study
// (both metrics as defender and attacker) and links the new study and its report card.
(function () {
  const form = document.getElementById("gmad-form");
  const jobId = form.dataset.jobId;
  const error = document.getElementById("gmad-error");
  const list = document.getElementById("gmad-pairs-list");
  const value = (id) => document.getElementById(id).value;
  const fmt = (v) => (v === null || v === undefined) ? "–" : Number(v).toPrecision(4);

  function figure(url, caption) {
    const f = document.createElement("figure");
    const img = document.createElement("img");
    img.src = url; img.alt = caption; img.loading = "lazy";
    const c = document.createElement("figcaption");
    c.textContent = caption;
    f.append(img, c);
    return f;
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    list.innerHTML = "";
    const params = new URLSearchParams({defender: value("gmad-defender"), attacker: value("gmad-attacker"), pairs: value("gmad-pairs")});
    const response = await fetch(`/api/v1/jobs/${jobId}/gmad?${params}`);
    const data = await response.json();
    if (!response.ok) { error.textContent = data.detail || `error ${response.status}`; return; }
    if (!data.pairs.length) { list.textContent = "No pair found: too few reconstructions per image."; return; }
    data.pairs.forEach((p) => {
      const row = document.createElement("div");
      row.className = "worst-row gmad-pair";
      const label = (side) => `${side.codec} @ ${side.rate_point} · ${fmt(side.bpp)} bpp · ${data.defender} ${fmt(side.defender)} · ${data.attacker} ${fmt(side.attacker)}`;
      row.append(figure(`/api/v1/results/${p.a.result_id}/reconstruction`, `${data.attacker} prefers: ${label(p.a)}`),
                 figure(`/api/v1/results/${p.b.result_id}/reconstruction`, label(p.b)),
                 figure(`/api/v1/images/${p.image}`, "reference"));
      list.appendChild(row);
    });
  });

  document.getElementById("gmad-study").addEventListener("click", async () => {
    error.textContent = "";
    const body = {metrics: [value("gmad-defender"), value("gmad-attacker")], pairs: Number(value("gmad-pairs"))};
    const response = await fetch(`/api/v1/jobs/${jobId}/gmad/study`, {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    const data = await response.json();
    if (!response.ok) { error.textContent = data.detail || `error ${response.status}`; return; }
    const created = document.getElementById("gmad-created");
    created.innerHTML = "";
    const study = document.createElement("a");
    study.href = `/studies/${data.study_id}`; study.textContent = `study #${data.study_id}`;
    const report = document.createElement("a");
    report.href = data.report_url; report.textContent = "report card";
    created.append(`${data.pairs} gMAD pairs became `, study, " (send its participant link to observers); once answered, the ",
                   report, " shows each metric's aggressiveness and resistance.");
  });
})();

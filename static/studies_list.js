// Studies list page: the studies /api/v1/studies lets this visitor see, newest first (all pages of 100).
(function () {
  const rows = document.getElementById("studies-rows");
  const error = document.getElementById("studies-error");

  function cell(tr, content) {
    const td = document.createElement("td");
    if (content instanceof Node) td.appendChild(content); else td.textContent = content;
    tr.appendChild(td);
  }
  function link(href, text) { const a = document.createElement("a"); a.href = href; a.textContent = text; return a; }
  function groups(study) {  // imported studies are named by their group labels (their scenes or sources)
    const names = [...new Set((study.conditions || []).map((c) => c.group).filter((g) => g !== null && g !== undefined))];
    return names.length ? `${names.length} group(s): ${names.slice(0, 6).join(", ")}${names.length > 6 ? ", …" : ""}` : "";
  }

  async function load() {
    const studies = [];
    for (let offset = 0; ; offset += 100) {
      const response = await fetch(`/api/v1/studies?limit=100&offset=${offset}`);
      if (!response.ok) { const body = await response.json().catch(() => ({})); throw new Error(body.detail || response.statusText); }
      const page = await response.json();
      studies.push(...page);
      if (page.length < 100) break;
    }
    rows.innerHTML = "";
    for (const s of studies) {
      const tr = document.createElement("tr");
      tr.className = "study-row";
      cell(tr, link(`/studies/${s.id}`, s.name || `study ${s.id}`));
      cell(tr, s.method);
      cell(tr, s.status);
      if (s.imported) cell(tr, `imported ${groups(s)}`);
      else if (s.job_id !== null && s.job_id !== undefined) cell(tr, link(`/jobs/${s.job_id}`, `job #${s.job_id}`));
      else cell(tr, "");
      cell(tr, String((s.conditions || []).length));
      cell(tr, (s.created_at || "").slice(0, 16).replace("T", " "));
      rows.appendChild(tr);
    }
    document.getElementById("studies-empty").hidden = studies.length > 0;
  }
  load().catch((e) => { rows.innerHTML = ""; error.textContent = `Could not load the studies: ${e.message}`; });
})();

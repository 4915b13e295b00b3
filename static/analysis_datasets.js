// IQA data set import form: POST /api/v1/iqa-datasets (multipart name, layout, archive, metrics).
(function () {
  const form = document.getElementById("dataset-form");
  const error = document.getElementById("dataset-error");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    const body = new FormData();
    body.append("name", document.getElementById("dataset-name").value);
    body.append("layout", document.getElementById("dataset-layout").value);
    body.append("archive", document.getElementById("dataset-archive").files[0]);
    const metrics = document.getElementById("dataset-metrics").value.trim();
    if (metrics) body.append("metrics", metrics);
    const response = await fetch("/api/v1/iqa-datasets", {method: "POST", body});
    const data = await response.json();
    if (!response.ok) { error.textContent = data.detail || `error ${response.status}`; return; }
    window.location.reload();
  });
  if (document.querySelector("#datasets td.status-queued, #datasets td.status-running")) setTimeout(() => window.location.reload(), 3000);
})();

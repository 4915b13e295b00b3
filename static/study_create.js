// Job page: create a human study from this job's results and open its owner page.
(function () {
  const form = document.getElementById("study-form");
  if (!form) return;
  const section = document.getElementById("new-study");
  const status = document.getElementById("job-status");
  const watch = setInterval(() => {  // the form appears once the job has succeeded
    if (status && status.textContent.trim() === "succeeded") { section.hidden = false; clearInterval(watch); }
  }, 1000);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const crop = document.getElementById("study-crop").value.trim();
    const body = {
      name: document.getElementById("study-name").value, job_id: Number(form.dataset.jobId),
      method: document.getElementById("study-method").value, sampling: document.getElementById("study-sampling").value,
      crop: crop === "" ? null : Number(crop), trials_per_session: Number(document.getElementById("study-trials").value),
    };
    const response = await fetch("/api/v1/studies", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const result = await response.json().catch(() => ({}));
    if (!response.ok) {
      document.getElementById("study-error").textContent = result.detail || `HTTP ${response.status}`;
      return;
    }
    window.location.href = `/studies/${result.id}`;
  });
})();

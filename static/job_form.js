// Image set page: build the job request from the form and start it.
(function () {
  const form = document.getElementById("job-form");
  const error = document.getElementById("job-error");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    const codecs = [];
    for (const box of form.querySelectorAll("input[name=codec]:checked")) {
      const text = form.querySelector(`input[name="rate-${box.value}"]`).value;
      const points = text.split(/[ ,;]+/).filter((s) => s.length).map(Number);
      codecs.push({ name: box.value, rate_points: points });
    }
    const metrics = Array.from(form.querySelectorAll("input[name=metric]:checked")).map((b) => b.value);
    const response = await fetch("/api/v1/jobs", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ image_set_id: Number(form.dataset.imageSet), codecs, metrics }),
    });
    const body = await response.json();
    if (!response.ok) { error.textContent = body.detail || response.statusText; return; }
    window.location.href = `/jobs/${body.id}`;
  });
})();

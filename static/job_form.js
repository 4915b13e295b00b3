// Image set page: build the job request from the form and start it.
(function () {
  const form = document.getElementById("job-form");
  const error = document.getElementById("job-error");
  const warning = document.getElementById("job-warning");
  const BD_MIN_POINTS = 4;  // Bjontegaard's cubic fit needs 4 points per curve
  function pointsOf(name) {
    const text = form.querySelector(`input[name="rate-${name}"]`).value;
    return text.split(/[ ,;]+/).filter((s) => s.length).map(Number);
  }
  function warnFewPoints() {
    if (!warning) return;
    const few = Array.from(form.querySelectorAll("input[name=codec]:checked"))
      .filter((box) => pointsOf(box.value).length < BD_MIN_POINTS).map((box) => box.value);
    warning.textContent = few.length ? `Fewer than ${BD_MIN_POINTS} rate points for ${few.join(", ")}: ` +
      "BD-rate needs at least 4 points per curve, so these codecs will get n/a in the BD table." : "";
  }
  form.addEventListener("input", warnFewPoints);
  form.addEventListener("change", warnFewPoints);
  warnFewPoints();
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    const codecs = [];
    for (const box of form.querySelectorAll("input[name=codec]:checked")) {
      codecs.push({ name: box.value, rate_points: pointsOf(box.value) });
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
// Owner controls on the image set page: visibility and deletion (the session's CSRF token is added by csrf.js).
(function () {
  const meta = document.getElementById("set-meta");
  const error = document.getElementById("set-error");
  const toggle = document.getElementById("toggle-visibility");
  const remove = document.getElementById("delete-set");
  if (!meta) return;
  const id = meta.dataset.imageSet;
  async function send(method, body) {
    const response = await fetch(`/api/v1/image-sets/${id}`, {
      method, headers: body ? { "Content-Type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
    if (!response.ok) { const b = await response.json(); error.textContent = b.detail || response.statusText; return false; }
    return true;
  }
  if (toggle) toggle.addEventListener("click", async () => {
    if (await send("PATCH", { visibility: toggle.dataset.next })) window.location.reload();
  });
  if (remove) remove.addEventListener("click", async () => {
    if (!window.confirm("Delete this image set with its jobs, results and files?")) return;
    if (await send("DELETE")) window.location.href = "/image-sets";
  });
})();

// Participant page of a human study: instructions, three page-only training trials, then the session's
// trials from the REST API. Images are shown 1 image pixel = 1 device pixel (CSS size = pixels /
// devicePixelRatio); when the window cannot show them 1:1 the page says so and waits instead of scaling.
// The session id lives in localStorage, and `next` returns the same trial until it is answered, so a
// reload resumes where the observer left off.
(function () {
  const root = document.getElementById("study");
  const studyId = root.dataset.studyId;
  const token = root.dataset.token;
  const method = root.dataset.method;
  const minViewingMs = Number(root.dataset.minViewingMs);
  const storageKey = `licbench-study-${studyId}-session`;
  const api = `/api/v1/studies/${studyId}`;
  const el = (id) => document.getElementById(id);
  const stage = el("stage");
  const stimuli = el("stimuli");
  const left = el("img-left");
  const right = el("img-right");
  const TRAINING = 3;

  let current = null;       // {training, kind, trialId, left, right, reference, expected, position, total}
  let shownAt = null;       // performance.now() when both images were visible at 1:1
  let showingReference = false;
  let busy = false;

  function setError(text) { el("study-error").textContent = text || ""; }

  async function json(response) {
    try { return await response.json(); } catch (e) { return {}; }
  }

  // ---------------------------------------------------------------- training stimuli (synthetic)
  function trainingImages(seed) {
    const size = 128;
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = size;
    const ctx = canvas.getContext("2d");
    const gradient = ctx.createLinearGradient(0, 0, size, size);
    gradient.addColorStop(0, `hsl(${(seed * 97) % 360}, 70%, 55%)`);
    gradient.addColorStop(1, `hsl(${(seed * 97 + 140) % 360}, 60%, 35%)`);
    ctx.fillStyle = gradient;
    ctx.fillRect(0, 0, size, size);
    for (let i = 0; i < 14; i++) {
      ctx.strokeStyle = i % 2 ? "#fff" : "#111";
      ctx.lineWidth = 1 + (i % 3);
      ctx.beginPath();
      ctx.arc(20 + ((i * 37 + seed * 11) % 90), 20 + ((i * 53 + seed * 7) % 90), 6 + (i % 5) * 5, 0, Math.PI * 2);
      ctx.stroke();
    }
    const original = canvas.toDataURL("image/png");
    const degrade = (factor) => {
      const small = document.createElement("canvas");
      small.width = small.height = size / factor;
      small.getContext("2d").drawImage(canvas, 0, 0, size / factor, size / factor);
      const out = document.createElement("canvas");
      out.width = out.height = size;
      const octx = out.getContext("2d");
      octx.imageSmoothingEnabled = false;
      octx.drawImage(small, 0, 0, size, size);
      return out.toDataURL("image/png");
    };
    return { original, mild: degrade(2), strong: degrade(8) };
  }

  function trainingTrial(index) {
    const images = trainingImages(index + 1);
    if (method === "pairwise") {
      const strongLeft = index % 2 === 0;
      return { training: true, kind: "pairwise", reference: images.original,
               left: strongLeft ? images.strong : images.mild, right: strongLeft ? images.mild : images.strong,
               expected: strongLeft ? "b" : "a", position: index + 1, total: TRAINING };
    }
    const test = [images.strong, images.mild, images.original][index % 3];
    const expected = [[1, 2], [3, 4], [4, 5]][index % 3];
    return { training: true, kind: "dsis", reference: images.original, left: images.original, right: test,
             expected, position: index + 1, total: TRAINING };
  }

  // ---------------------------------------------------------------- showing a trial
  function loaded(img, src) {
    return new Promise((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error("an image of this trial could not be loaded"));
      img.src = src;
    });
  }

  function captions() {
    if (method === "pairwise") {
      el("cap-left").textContent = showingReference ? "ORIGINAL" : "left";
      el("cap-right").textContent = showingReference ? "ORIGINAL" : "right";
    } else {
      el("cap-left").textContent = "original";
      el("cap-right").textContent = showingReference ? "ORIGINAL" : "processed";
    }
    stimuli.classList.toggle("reference", showingReference);
  }

  function fits() {
    const dpr = window.devicePixelRatio || 1;
    const widths = [left, right].map((img) => img.naturalWidth / dpr);
    const height = Math.max(left.naturalHeight, right.naturalHeight) / dpr;
    left.style.width = `${widths[0]}px`;
    right.style.width = `${widths[1]}px`;
    const needWidth = widths[0] + widths[1] + 32 + 48;
    const needHeight = height + 150;
    const ok = window.innerWidth >= needWidth && window.innerHeight >= needHeight;
    const warning = el("fit-warning");
    warning.hidden = ok;
    stimuli.style.visibility = ok ? "visible" : "hidden";
    if (!ok) {
      warning.textContent = `This window is too small to show the images pixel for pixel: they need about ` +
        `${Math.ceil(needWidth)} x ${Math.ceil(needHeight)} CSS pixels, the window has ${window.innerWidth} x ` +
        `${window.innerHeight}. Enlarge the window or reset the browser zoom to 100%; answering resumes then.`;
    }
    return ok;
  }

  function refreshReadiness() {
    if (!current) return;
    const ok = fits();
    if (!ok) { shownAt = null; markReady(false); return; }
    if (shownAt === null) {
      shownAt = performance.now();
      const wait = Math.max(0, minViewingMs);
      el("viewing-hint").textContent = wait > 0 ? "Please look at both images…" : "";
      const trialAtStart = current;
      setTimeout(() => {
        if (current === trialAtStart && shownAt !== null) {
          el("viewing-hint").textContent = "";
          markReady(true);
        }
      }, wait);
    }
  }

  function markReady(ready) {
    stage.dataset.ready = ready ? "true" : "false";
    for (const b of document.querySelectorAll("#answers button[data-choice], #answers button[data-score]")) {
      b.disabled = !ready;
    }
  }

  async function show(trial) {
    current = trial;
    shownAt = null;
    showingReference = false;
    markReady(false);
    stage.dataset.training = trial.training ? "true" : "false";
    stage.dataset.position = String(trial.position);
    stage.dataset.trialId = trial.trialId ? String(trial.trialId) : "";
    el("trial-label").textContent = trial.training
      ? `Training ${trial.position} of ${trial.total} (not recorded)` : `Trial ${trial.position} of ${trial.total}`;
    el("study-progress").max = trial.total;
    el("study-progress").value = trial.position - 1;
    captions();
    stimuli.style.visibility = "hidden";
    await Promise.all([loaded(left, trial.left), loaded(right, trial.right)]);
    if (current !== trial) return;
    refreshReadiness();
  }

  function flicker() {
    if (!current) return;
    showingReference = !showingReference;
    if (method === "pairwise") {
      left.src = showingReference ? current.reference : current.left;
      right.src = showingReference ? current.reference : current.right;
    } else {
      right.src = showingReference ? current.reference : current.right;
    }
    captions();
  }

  // ---------------------------------------------------------------- answers
  async function answer(value) {
    if (!current || busy) return;
    if (stage.dataset.ready !== "true") {
      el("feedback").textContent = "Please look at the images a little longer before answering.";
      return;
    }
    const trial = current;
    const responseMs = Math.round(performance.now() - shownAt);
    el("feedback").textContent = "";
    if (trial.training) {
      const right_ = method === "pairwise" ? value === trial.expected : trial.expected.includes(value);
      el("feedback").textContent = right_ ? "Training: as expected." :
        (method === "pairwise" ? "Training: the other image was closer to the original."
                               : `Training: a score of ${trial.expected.join(" or ")} was expected.`);
      if (trial.position < TRAINING) await show(trainingTrial(trial.position));
      else await beginSession();
      return;
    }
    busy = true;
    markReady(false);
    const body = method === "pairwise" ? { trial_id: trial.trialId, choice: value }
                                       : { trial_id: trial.trialId, score: value };
    body.response_ms = responseMs;
    try {
      const response = await fetch(`${api}/sessions/${sessionId()}/responses`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      if (!response.ok && response.status !== 409) {
        setError((await json(response)).detail || `answer not stored (HTTP ${response.status})`);
        markReady(true);
        return;
      }
      await nextTrial();
    } finally {
      busy = false;
    }
  }

  document.addEventListener("keydown", (event) => {
    if (stage.hidden || event.repeat) return;
    if (event.key === " " || event.code === "Space") { event.preventDefault(); flicker(); return; }
    if (method === "pairwise" && event.key === "ArrowLeft") { event.preventDefault(); answer("a"); }
    else if (method === "pairwise" && event.key === "ArrowRight") { event.preventDefault(); answer("b"); }
    else if (method === "dsis" && /^[1-5]$/.test(event.key)) { event.preventDefault(); answer(Number(event.key)); }
  });
  for (const b of document.querySelectorAll("#answers button[data-choice]")) {
    b.addEventListener("click", () => answer(b.dataset.choice));
  }
  for (const b of document.querySelectorAll("#answers button[data-score]")) {
    b.addEventListener("click", () => answer(Number(b.dataset.score)));
  }
  el("flicker").addEventListener("click", flicker);
  window.addEventListener("resize", refreshReadiness);

  // ---------------------------------------------------------------- the session
  function sessionId() { return localStorage.getItem(storageKey); }

  async function beginSession() {
    const response = await fetch(`${api}/sessions`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token, display: { width: window.innerWidth, height: window.innerHeight,
                                               device_pixel_ratio: window.devicePixelRatio || 1 } }) });
    const body = await json(response);
    if (!response.ok) { finish(body.detail || `could not start a session (HTTP ${response.status})`); return; }
    localStorage.setItem(storageKey, body.id);
    await nextTrial();
  }

  function finish(message) {
    current = null;
    stage.hidden = true;
    el("intro").hidden = true;
    el("done").hidden = false;
    if (message) el("done-message").textContent = message;
  }

  async function nextTrial() {
    const response = await fetch(`${api}/sessions/${sessionId()}/next`);
    if (response.status === 204) {
      finish(root.dataset.status === "closed" ? "This study is closed. Thank you for your interest." : null);
      return;
    }
    if (response.status === 404) {  // the stored session is gone: start afresh
      localStorage.removeItem(storageKey);
      current = null;
      stage.hidden = true;
      el("intro").hidden = false;
      return;
    }
    if (!response.ok) { setError((await json(response)).detail || `HTTP ${response.status}`); return; }
    const t = await json(response);
    el("feedback").textContent = "";
    try {
      await show({ training: false, kind: t.kind, trialId: t.trial_id, reference: t.reference_url,
                   left: t.kind === "pairwise" ? t.a.url : t.reference_url,
                   right: t.kind === "pairwise" ? t.b.url : t.a.url, position: t.position, total: t.total });
    } catch (error) {
      setError(error.message);
    }
  }

  el("start").addEventListener("click", async () => {
    el("intro").hidden = true;
    stage.hidden = false;
    await show(trainingTrial(0));
  });

  if (sessionId()) {  // a reload: resume the stored session without training again
    el("intro").hidden = true;
    stage.hidden = false;
    nextTrial().then(() => {
      if (current) el("feedback").textContent = "Welcome back: continuing where you left off.";
    });
  }
})();

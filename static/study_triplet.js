// Participant page of a triplet study (JPEG AIC-3): the original (pivot) between two processed versions; the
// observer names the side that differs more from it (left / right arrow) or says not sure (down arrow).
// Three page-only training trials come first. Images are drawn 1 image pixel = 1 device pixel (x2 with the
// zoom boost); when the window cannot show them so, the page says so and waits instead of scaling. Boosts
// (from `next`): zoom draws every image twice as large (nearest neighbour), flicker alternates each side with
// the pivot every 100 ms, amplify shows pivot + 2 x (side - pivot). The session id lives in localStorage and
// `next` returns the same trial until it is answered, so a reload resumes.
(function () {
  const root = document.getElementById("study");
  const studyId = root.dataset.studyId;
  const token = root.dataset.token;
  const minViewingMs = Number(root.dataset.minViewingMs);
  const storageKey = `licbench-study-${studyId}-session`;
  const api = `/api/v1/studies/${studyId}`;
  const el = (id) => document.getElementById(id);
  const stage = el("stage");
  const stimuli = el("stimuli");
  const canvases = { left: el("img-left"), pivot: el("img-pivot"), right: el("img-right") };
  const TRAINING = 3;
  const AMPLIFY = 2;
  const FLICKER_MS = 100;

  let current = null;  // {training, trialId, pivot, left, right, boost, expected, position, total, pixels}
  let shownAt = null;
  let busy = false;
  let flickerTimer = null;

  function setError(text) { el("study-error").textContent = text || ""; }
  async function json(response) { try { return await response.json(); } catch (e) { return {}; } }

  // ---------------------------------------------------------------- training stimuli (synthetic)
  function trainingImages(seed) {
    const size = 96;
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = size;
    const ctx = canvas.getContext("2d");
    const gradient = ctx.createLinearGradient(0, 0, size, size);
    gradient.addColorStop(0, `hsl(${(seed * 97) % 360}, 70%, 55%)`);
    gradient.addColorStop(1, `hsl(${(seed * 97 + 140) % 360}, 60%, 35%)`);
    ctx.fillStyle = gradient;
    ctx.fillRect(0, 0, size, size);
    for (let i = 0; i < 12; i++) {
      ctx.strokeStyle = i % 2 ? "#fff" : "#111";
      ctx.lineWidth = 1 + (i % 3);
      ctx.beginPath();
      ctx.arc(15 + ((i * 37 + seed * 11) % 66), 15 + ((i * 53 + seed * 7) % 66), 5 + (i % 5) * 4, 0, Math.PI * 2);
      ctx.stroke();
    }
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
    return { original: canvas.toDataURL("image/png"), mild: degrade(2), strong: degrade(8) };
  }

  function trainingTrial(index) {
    const images = trainingImages(index + 1);
    const strongLeft = index % 2 === 0;
    return { training: true, pivot: images.original, left: strongLeft ? images.strong : images.mild,
             right: strongLeft ? images.mild : images.strong, boost: [], expected: strongLeft ? "left" : "right",
             position: index + 1, total: TRAINING };
  }

  // ---------------------------------------------------------------- drawing
  function load(src) {
    return new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error("an image of this trial could not be loaded"));
      img.src = src;
    });
  }

  function pixelsOf(img) {
    const c = document.createElement("canvas");
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const ctx = c.getContext("2d");
    ctx.drawImage(img, 0, 0);
    return ctx.getImageData(0, 0, c.width, c.height);
  }

  function amplified(side, pivot) {
    const out = new ImageData(side.width, side.height);
    for (let i = 0; i < side.data.length; i++) {
      out.data[i] = (i % 4 === 3) ? 255 : Math.max(0, Math.min(255, pivot.data[i] + AMPLIFY * (side.data[i] - pivot.data[i])));
    }
    return out;
  }

  function paint(canvas, data) {
    canvas.width = data.width; canvas.height = data.height;
    canvas.getContext("2d").putImageData(data, 0, 0);
  }

  function zoom() { return current && current.boost.includes("zoom") ? 2 : 1; }

  function fits() {
    const dpr = window.devicePixelRatio || 1;
    const scale = zoom() / dpr;  // CSS pixels per image pixel: image pixels land on device pixels
    let needWidth = 2 * 32 + 48;
    let height = 0;
    for (const c of Object.values(canvases)) {
      c.style.width = `${c.width * scale}px`;
      c.style.height = `${c.height * scale}px`;
      needWidth += c.width * scale;
      height = Math.max(height, c.height * scale);
    }
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

  function markReady(ready) {
    stage.dataset.ready = ready ? "true" : "false";
    for (const b of document.querySelectorAll("#answers button[data-choice]")) b.disabled = !ready;
  }

  function refreshReadiness() {
    if (!current || !current.pixels) return;
    if (!fits()) { shownAt = null; markReady(false); return; }
    if (shownAt === null) {
      shownAt = performance.now();
      el("viewing-hint").textContent = minViewingMs > 0 ? "Please look at all three images…" : "";
      const trialAtStart = current;
      setTimeout(() => {
        if (current === trialAtStart && shownAt !== null) { el("viewing-hint").textContent = ""; markReady(true); }
      }, Math.max(0, minViewingMs));
    }
  }

  async function show(trial) {
    current = trial;
    shownAt = null;
    markReady(false);
    if (flickerTimer) { clearInterval(flickerTimer); flickerTimer = null; }
    stage.dataset.training = trial.training ? "true" : "false";
    stage.dataset.position = String(trial.position);
    stage.dataset.trialId = trial.trialId ? String(trial.trialId) : "";
    stage.dataset.boost = trial.boost.join(",");
    el("trial-label").textContent = trial.training
      ? `Training ${trial.position} of ${trial.total} (not recorded)` : `Trial ${trial.position} of ${trial.total}`;
    el("study-progress").max = trial.total;
    el("study-progress").value = trial.position - 1;
    stimuli.style.visibility = "hidden";
    const [pivot, left, right] = await Promise.all([load(trial.pivot), load(trial.left), load(trial.right)]);
    if (current !== trial) return;
    const p = pixelsOf(pivot);
    let l = pixelsOf(left);
    let r = pixelsOf(right);
    if (trial.boost.includes("amplify")) { l = amplified(l, p); r = amplified(r, p); }
    trial.pixels = { pivot: p, left: l, right: r };
    paint(canvases.pivot, p); paint(canvases.left, l); paint(canvases.right, r);
    for (const c of Object.values(canvases)) c.style.imageRendering = "pixelated";
    if (trial.boost.includes("flicker")) {
      let onPivot = false;
      flickerTimer = setInterval(() => {
        onPivot = !onPivot;
        paint(canvases.left, onPivot ? p : l);
        paint(canvases.right, onPivot ? p : r);
      }, FLICKER_MS);
    }
    refreshReadiness();
  }

  // ---------------------------------------------------------------- answers
  async function answer(choice) {
    if (!current || busy) return;
    if (stage.dataset.ready !== "true") {
      el("feedback").textContent = "Please look at the images a little longer before answering.";
      return;
    }
    const trial = current;
    const responseMs = Math.round(performance.now() - shownAt);
    el("feedback").textContent = "";
    if (trial.training) {
      el("feedback").textContent = choice === trial.expected ? "Training: as expected." :
        `Training: the ${trial.expected} image differed more from the original.`;
      if (trial.position < TRAINING) await show(trainingTrial(trial.position));
      else await beginSession();
      return;
    }
    busy = true;
    markReady(false);
    try {
      const response = await fetch(`${api}/sessions/${sessionId()}/responses`, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ trial_id: trial.trialId, choice, response_ms: responseMs }) });
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

  const KEYS = { ArrowLeft: "left", ArrowRight: "right", ArrowDown: "not_sure" };
  document.addEventListener("keydown", (event) => {
    if (stage.hidden || event.repeat || !(event.key in KEYS)) return;
    event.preventDefault();
    answer(KEYS[event.key]);
  });
  for (const b of document.querySelectorAll("#answers button[data-choice]")) {
    b.addEventListener("click", () => answer(b.dataset.choice));
  }
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
    if (flickerTimer) { clearInterval(flickerTimer); flickerTimer = null; }
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
    if (response.status === 404) {
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
      await show({ training: false, trialId: t.trial_id, pivot: t.pivot.url, left: t.left.url, right: t.right.url,
                   boost: t.boost || [], position: t.position, total: t.total });
    } catch (error) {
      setError(error.message);
    }
  }

  el("start").addEventListener("click", async () => {
    el("intro").hidden = true;
    stage.hidden = false;
    await show(trainingTrial(0));
  });

  if (sessionId()) {
    el("intro").hidden = true;
    stage.hidden = false;
    nextTrial().then(() => { if (current) el("feedback").textContent = "Welcome back: continuing where you left off."; });
  }
})();

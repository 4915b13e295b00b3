// What every participant page of a human study shares (loaded before the method's own script): the session
// (started with the study's token, its id kept in localStorage, `next` returning the same trial until it is
// answered, so a reload resumes), three page-only training trials, the minimum viewing time, the 1:1 pixel
// check that waits instead of scaling, and posting answers. A page passes in what differs: how a trial is
// drawn and checked for fit, how it is answered, and its training feedback.
window.licbenchStudy = (function () {
  const el = (id) => document.getElementById(id);
  const TRAINING = 3;

  async function json(response) {
    try { return await response.json(); } catch (e) { return {}; }
  }

  function setError(text) { el("study-error").textContent = text || ""; }

  // A synthetic picture and two degraded versions of it (2x and 8x nearest-neighbour downsampling). `shape`:
  // {size, strokes, margin, spread, radius, radiusStep} of the gradient square and its ring strokes.
  function trainingImages(seed, shape) {
    const size = shape.size;
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = size;
    const ctx = canvas.getContext("2d");
    const gradient = ctx.createLinearGradient(0, 0, size, size);
    gradient.addColorStop(0, `hsl(${(seed * 97) % 360}, 70%, 55%)`);
    gradient.addColorStop(1, `hsl(${(seed * 97 + 140) % 360}, 60%, 35%)`);
    ctx.fillStyle = gradient;
    ctx.fillRect(0, 0, size, size);
    for (let i = 0; i < shape.strokes; i++) {
      ctx.strokeStyle = i % 2 ? "#fff" : "#111";
      ctx.lineWidth = 1 + (i % 3);
      ctx.beginPath();
      ctx.arc(shape.margin + ((i * 37 + seed * 11) % shape.spread), shape.margin + ((i * 53 + seed * 7) % shape.spread),
              shape.radius + (i % 5) * shape.radiusStep, 0, Math.PI * 2);
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

  // Whether the window shows `needWidth` x `needHeight` CSS pixels; if not, hide the stimuli and say why.
  function showFit(needWidth, needHeight) {
    const ok = window.innerWidth >= needWidth && window.innerHeight >= needHeight;
    const warning = el("fit-warning");
    warning.hidden = ok;
    el("stimuli").style.visibility = ok ? "visible" : "hidden";
    if (!ok) {
      warning.textContent = `This window is too small to show the images pixel for pixel: they need about ` +
        `${Math.ceil(needWidth)} x ${Math.ceil(needHeight)} CSS pixels, the window has ${window.innerWidth} x ` +
        `${window.innerHeight}. Enlarge the window or reset the browser zoom to 100%; answering resumes then.`;
    }
    return ok;
  }

  // The page's life: training, session, trials, answers. `page` gives trainingTrial(index), draw(trial) (async:
  // loads and shows its images), fits(), viewingHint, trainingFeedback(trial, value), answerBody(trial, value),
  // fromNext(json of `next`) and, optionally, stop() (ends anything animating when the trials end).
  function run(page) {
    const root = el("study");
    const studyId = root.dataset.studyId;
    const token = root.dataset.token;
    const minViewingMs = Number(root.dataset.minViewingMs);
    const storageKey = `licbench-study-${studyId}-session`;
    const api = `/api/v1/studies/${studyId}`;
    const stage = el("stage");

    let current = null;  // the trial shown: {training, trialId, position, total, ...what the page draws}
    let shownAt = null;  // performance.now() when its images were visible at 1:1
    let busy = false;

    function markReady(ready) {
      stage.dataset.ready = ready ? "true" : "false";
      for (const b of document.querySelectorAll("#answers button[data-choice], #answers button[data-score]")) {
        b.disabled = !ready;
      }
    }

    function refreshReadiness() {
      if (!current || !current.drawn) return;
      if (!page.fits()) { shownAt = null; markReady(false); return; }
      if (shownAt === null) {
        shownAt = performance.now();
        el("viewing-hint").textContent = minViewingMs > 0 ? page.viewingHint : "";
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
      stage.dataset.training = trial.training ? "true" : "false";
      stage.dataset.position = String(trial.position);
      stage.dataset.trialId = trial.trialId ? String(trial.trialId) : "";
      el("trial-label").textContent = trial.training
        ? `Training ${trial.position} of ${trial.total} (not recorded)` : `Trial ${trial.position} of ${trial.total}`;
      el("study-progress").max = trial.total;
      el("study-progress").value = trial.position - 1;
      el("stimuli").style.visibility = "hidden";
      await page.draw(trial);
      if (current !== trial) return;
      trial.drawn = true;
      refreshReadiness();
    }

    function training(index) { return { ...page.trainingTrial(index), training: true, position: index + 1, total: TRAINING }; }

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
        el("feedback").textContent = page.trainingFeedback(trial, value);
        if (trial.position < TRAINING) await show(training(trial.position));
        else await beginSession();
        return;
      }
      busy = true;
      markReady(false);
      try {
        const response = await fetch(`${api}/sessions/${sessionId()}/responses`, {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ trial_id: trial.trialId, ...page.answerBody(trial, value), response_ms: responseMs }) });
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
      if (page.stop) page.stop();
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
        await show({ ...page.fromNext(t), training: false, trialId: t.trial_id, position: t.position, total: t.total });
      } catch (error) {
        setError(error.message);
      }
    }

    window.addEventListener("resize", refreshReadiness);
    el("start").addEventListener("click", async () => {
      el("intro").hidden = true;
      stage.hidden = false;
      await show(training(0));
    });
    if (sessionId()) {  // a reload: resume the stored session without training again
      el("intro").hidden = true;
      stage.hidden = false;
      nextTrial().then(() => {
        if (current) el("feedback").textContent = "Welcome back: continuing where you left off.";
      });
    }
    return { answer, current: () => current, isHidden: () => stage.hidden };
  }

  return { json, setError, trainingImages, showFit, run };
})();

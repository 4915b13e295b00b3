// Reconstruction viewer: two canvases sharing one view (zoom about the pointer, pan by dragging), at 1:1
// device pixels and beyond without smoothing; slider, flicker and error-map modes; keyboard shortcuts.
(function () {
  const root = document.getElementById("viewer");
  if (!root) return;
  const data = JSON.parse(document.getElementById("viewer-data").textContent);
  const W = Number(root.dataset.width), H = Number(root.dataset.height);
  const left = document.getElementById("pane-left"), right = document.getElementById("pane-right");
  const panes = document.querySelector(".panes");
  const modeSelect = document.getElementById("mode"), leftSelect = document.getElementById("left-source");
  const split = document.getElementById("split"), zoomLabel = document.getElementById("zoom-label");
  const errorBox = document.getElementById("viewer-error");
  const dpr = window.devicePixelRatio || 1;
  const images = {};
  // What each error map shows, for its colour scale (app/services/jobs/viewer.py computes them; black = 0).
  const MAP_SCALES = {
    abs: { title: "|difference| per RGB channel, ×4", low: "0", high: "≥ 63.75 (8-bit levels)" },
    ssim: { title: "1 − local SSIM (σ = 1.5), mean over RGB", low: "0 (identical)", high: "1" },
    flip: { title: "FLIP error (NVIDIA ꟻLIP, per pixel)", low: "0 (identical)", high: "1" },
  };
  const MAP_NAMES = { abs: "|difference| ×4", ssim: "SSIM map", flip: "FLIP map" };
  const scaleBox = document.getElementById("map-scale");
  const loadingBox = document.getElementById("viewer-loading");
  const state = { scale: 1, cx: W / 2, cy: H / 2, mode: "side", showing: "right", split: 0.5, flickerTimer: null,
                  leftSource: "original", fitted: true };
  window.viewerState = state;

  function load(key, url) {
    if (images[key]) return images[key];
    const img = new Image();
    images[key] = img;
    img.onload = draw;
    img.onerror = () => { img.failed = true; errorBox.textContent = `could not load ${url}`; draw(); };
    img.src = url;
    return img;
  }
  function isMap(mode) { return ["abs", "ssim", "flip"].includes(mode); }
  // Slow maps (FLIP takes about 2 s the first time): say so until the image is there.
  function showLoading() {
    const pending = [];
    for (const [key, img] of Object.entries(images)) {
      if (!img.complete && !img.failed) pending.push(key.startsWith("map-") ? MAP_NAMES[key.slice(4)] : "image");
    }
    loadingBox.hidden = pending.length === 0;
    loadingBox.textContent = pending.length ? `loading ${[...new Set(pending)].join(", ")}…` : "";
    root.dataset.loading = pending.length ? "1" : "";
  }
  function showScale() {
    const scale = isMap(state.mode) ? MAP_SCALES[state.mode] : null;
    scaleBox.hidden = !scale;
    if (!scale) return;
    scaleBox.querySelector(".scale-title").textContent = scale.title;
    scaleBox.querySelector(".scale-low").textContent = scale.low;
    scaleBox.querySelector(".scale-high").textContent = scale.high;
  }
  // In a map mode the left pane shows the reconstruction the map is of: the Left dropdown says so and is locked.
  function syncLeftSelect() {
    let note = leftSelect.querySelector("option[data-map-note]");
    if (isMap(state.mode)) {
      if (!note) {
        note = document.createElement("option");
        note.dataset.mapNote = "1"; note.value = "__map__";
        leftSelect.appendChild(note);
      }
      note.textContent = `${rightName} (the reconstruction of the map)`;
      leftSelect.value = "__map__"; leftSelect.disabled = true;
    } else {
      if (note) note.remove();
      leftSelect.disabled = false; leftSelect.value = state.leftSource;
    }
  }
  function leftImage() {
    return state.leftSource === "original" ? load("original", data.original_url)
      : load(`r${state.leftSource}`, `/api/v1/results/${state.leftSource}/reconstruction`);
  }
  function leftName() {
    if (state.leftSource === "original") return "original";
    const o = data.others.find((x) => String(x.id) === String(state.leftSource));
    return o ? `${o.codec} @ ${o.rate_point}` : "original";
  }
  const rightName = `${data.codec} @ ${data.rate_point}`;
  function rightImage() {
    if (["abs", "ssim", "flip"].includes(state.mode)) return load(`map-${state.mode}`, data.maps[state.mode]);
    return load("recon", data.reconstruction_url);
  }

  function sizeCanvases() {
    const single = state.mode === "slider" || state.mode === "flicker";
    panes.classList.toggle("single", single);
    const avail = Math.min(window.innerWidth - 80, 1200);
    const cssW = Math.max(240, single ? avail : Math.floor(avail / 2) - 8);
    const cssH = Math.max(200, Math.min(Math.round(window.innerHeight * 0.65), Math.round(cssW * H / W) || cssW));
    for (const c of [left, right]) {
      c.style.width = `${cssW}px`; c.style.height = `${cssH}px`;
      c.width = Math.round(cssW * dpr); c.height = Math.round(cssH * dpr);
    }
  }
  function fit() {
    state.scale = Math.min(right.width / W, right.height / H);
    state.cx = W / 2; state.cy = H / 2; state.fitted = true;
  }
  function paint(canvas, img, clip) {
    const ctx = canvas.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!img || !img.complete || !img.naturalWidth) return;
    ctx.save();
    if (clip) { ctx.beginPath(); ctx.rect(clip[0], 0, clip[1] - clip[0], canvas.height); ctx.clip(); }
    ctx.imageSmoothingEnabled = false;
    ctx.setTransform(state.scale, 0, 0, state.scale, canvas.width / 2 - state.cx * state.scale,
                     canvas.height / 2 - state.cy * state.scale);
    ctx.drawImage(img, 0, 0);
    ctx.restore();
  }
  function draw() {
    const capL = document.getElementById("caption-left"), capR = document.getElementById("caption-right");
    if (state.mode === "slider") {
      const x = Math.round(right.width * state.split);
      paint(right, leftImage(), [0, x]);
      const ctx = right.getContext("2d");
      ctx.save(); ctx.beginPath(); ctx.rect(x, 0, right.width - x, right.height); ctx.clip();
      ctx.imageSmoothingEnabled = false;
      const img = rightImage();
      if (img.complete && img.naturalWidth) {
        ctx.setTransform(state.scale, 0, 0, state.scale, right.width / 2 - state.cx * state.scale,
                         right.height / 2 - state.cy * state.scale);
        ctx.drawImage(img, 0, 0);
      }
      ctx.restore();
      ctx.fillStyle = "#ff0"; ctx.fillRect(x - 1, 0, 2, right.height);
      capR.textContent = `${leftName()} | ${rightName}`;
    } else if (state.mode === "flicker") {
      paint(right, state.showing === "left" ? leftImage() : rightImage());
      capR.textContent = state.showing === "left" ? leftName() : rightName;
    } else {
      paint(left, ["abs", "ssim", "flip"].includes(state.mode) ? load("recon", data.reconstruction_url) : leftImage());
      paint(right, rightImage());
      capL.textContent = isMap(state.mode) ? `${rightName} (left pane follows the map)` : leftName();
      capR.textContent = state.mode === "side" ? rightName : `${MAP_NAMES[state.mode]} of ${rightName}`;
    }
    showLoading(); showScale();
    const ratio = state.scale;
    zoomLabel.textContent = Math.abs(ratio - Math.round(ratio)) < 1e-9 && ratio >= 1 ? `${ratio}:1`
      : `${(ratio * 100).toFixed(0)}%`;
    root.dataset.scale = String(state.scale);
    root.dataset.showing = state.showing;
    root.dataset.mode = state.mode;
  }
  function zoomAt(factor, px, py) {  // px, py: canvas pixel position kept fixed
    const canvas = right;
    px = px === undefined ? canvas.width / 2 : px; py = py === undefined ? canvas.height / 2 : py;
    const ix = state.cx + (px - canvas.width / 2) / state.scale, iy = state.cy + (py - canvas.height / 2) / state.scale;
    state.scale = Math.min(64, Math.max(0.05, state.scale * factor));
    state.cx = ix - (px - canvas.width / 2) / state.scale; state.cy = iy - (py - canvas.height / 2) / state.scale;
    state.fitted = false; draw();
  }
  function setScale(scale) { state.scale = scale; state.fitted = false; draw(); }
  const ZOOM_STEPS = [0.0625, 0.125, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64];
  function nextZoom(up, px, py) {  // powers of two around 1:1 so every step lands on exact pixel ratios
    const s = state.scale;
    const target = up ? ZOOM_STEPS.find((v) => v > s + 1e-9) : [...ZOOM_STEPS].reverse().find((v) => v < s - 1e-9);
    if (target) { zoomAt(target / s, px, py); state.scale = target; draw(); }
  }
  function setMode(mode) {
    state.mode = mode; modeSelect.value = mode; syncLeftSelect();
    split.hidden = mode !== "slider";
    if (mode !== "flicker") stopFlicker();
    sizeCanvases(); if (state.fitted) fit(); draw();
  }
  function stopFlicker() { if (state.flickerTimer) { clearInterval(state.flickerTimer); state.flickerTimer = null; } }
  function toggleFlicker() {
    if (state.mode !== "flicker") { setMode("flicker"); }
    if (state.flickerTimer) { stopFlicker(); state.showing = state.showing === "left" ? "right" : "left"; draw(); return; }
    state.flickerTimer = setInterval(() => { state.showing = state.showing === "left" ? "right" : "left"; draw(); }, 500);
  }

  // pan by dragging either pane; wheel zooms about the pointer
  for (const canvas of [left, right]) {
    let drag = null;
    canvas.addEventListener("pointerdown", (e) => { drag = { x: e.clientX, y: e.clientY }; canvas.setPointerCapture(e.pointerId); canvas.classList.add("dragging"); });
    canvas.addEventListener("pointermove", (e) => {
      if (!drag) {
        if (state.mode === "slider" && e.buttons === 0) return;
        return;
      }
      state.cx -= (e.clientX - drag.x) * dpr / state.scale; state.cy -= (e.clientY - drag.y) * dpr / state.scale;
      drag = { x: e.clientX, y: e.clientY }; state.fitted = false; draw();
    });
    canvas.addEventListener("pointerup", () => { drag = null; canvas.classList.remove("dragging"); });
    // The wheel steps through the same powers of two as +/- (1:1 exact), about the pointer.
    canvas.addEventListener("wheel", (e) => {
      e.preventDefault();
      const rect = canvas.getBoundingClientRect();
      nextZoom(e.deltaY < 0, (e.clientX - rect.left) * dpr, (e.clientY - rect.top) * dpr);
    }, { passive: false });
  }
  document.getElementById("zoom-in").addEventListener("click", () => nextZoom(true));
  document.getElementById("zoom-out").addEventListener("click", () => nextZoom(false));
  document.getElementById("zoom-1").addEventListener("click", () => setScale(1));
  document.getElementById("zoom-fit").addEventListener("click", () => { fit(); draw(); });
  document.getElementById("flicker-toggle").addEventListener("click", toggleFlicker);
  // After a dropdown is used, focus goes back to the viewer so the keyboard shortcuts keep working.
  function refocus(select) { select.blur(); root.focus({ preventScroll: true }); }
  modeSelect.addEventListener("change", () => { setMode(modeSelect.value); refocus(modeSelect); });
  leftSelect.addEventListener("change", () => {
    if (leftSelect.value !== "__map__") state.leftSource = leftSelect.value;
    draw(); refocus(leftSelect);
  });
  split.addEventListener("input", () => { state.split = Number(split.value) / 100; draw(); });

  function stepRate(delta) {
    const same = data.others.filter((o) => o.codec === data.codec).concat([{ id: data.id, bpp: data.bpp }])
      .sort((a, b) => a.bpp - b.bpp);
    const i = same.findIndex((o) => o.id === data.id);
    const next = same[i + delta];
    if (next) window.location.href = `/results/${next.id}${state.leftSource !== "original" ? `?compare=${state.leftSource}` : ""}`;
  }
  document.addEventListener("keydown", (e) => {
    // Text fields keep their keys; a dropdown keeps the arrows it needs, every other shortcut works.
    if (e.target.closest("input[type=text], input:not([type]), textarea")) return;
    if (e.target.closest("select") && e.key.startsWith("Arrow")) return;
    const pan = 40 * dpr / state.scale;
    const keys = {
      "+": () => nextZoom(true), "=": () => nextZoom(true), "-": () => nextZoom(false), "1": () => setScale(1),
      "0": () => { fit(); draw(); }, " ": toggleFlicker, "s": () => setMode("slider"), "e": () => setMode("abs"),
      "m": () => setMode("ssim"), "f": () => setMode("flip"), "b": () => setMode("side"), "[": () => stepRate(-1), "]": () => stepRate(1),
      "ArrowLeft": () => { state.cx -= pan; draw(); }, "ArrowRight": () => { state.cx += pan; draw(); },
      "ArrowUp": () => { state.cy -= pan; draw(); }, "ArrowDown": () => { state.cy += pan; draw(); },
    };
    const action = keys[e.key];
    if (action) { e.preventDefault(); action(); }
  });
  window.addEventListener("resize", () => { sizeCanvases(); if (state.fitted) fit(); draw(); });

  root.tabIndex = -1;  // focusable, so a dropdown can hand the keyboard back
  if (root.dataset.compare) { state.leftSource = root.dataset.compare; leftSelect.value = root.dataset.compare; }
  sizeCanvases(); fit(); draw();
})();

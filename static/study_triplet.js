// Participant page of a triplet study (JPEG AIC-3): the original (pivot) between two processed versions; the
// observer names the side that differs more from it (left / right arrow) or says not sure (down arrow). The
// session, training and answering live in study_session.js. Images are drawn 1 image pixel = 1 device pixel
// (x2 with the zoom boost); when the window cannot show them so, the page says so and waits instead of
// scaling. Boosts (from `next`): zoom draws every image twice as large (nearest neighbour), flicker alternates
// each side with the pivot every 100 ms, amplify shows pivot + 2 x (side - pivot).
(function () {
  const study = window.licbenchStudy;
  const el = (id) => document.getElementById(id);
  const stage = el("stage");
  const canvases = { left: el("img-left"), pivot: el("img-pivot"), right: el("img-right") };
  const AMPLIFY = 2;
  const FLICKER_MS = 100;
  const SHAPE = { size: 96, strokes: 12, margin: 15, spread: 66, radius: 5, radiusStep: 4 };

  let flickerTimer = null;
  let page = null;

  function trainingTrial(index) {
    const images = study.trainingImages(index + 1, SHAPE);
    const strongLeft = index % 2 === 0;
    return { pivot: images.original, left: strongLeft ? images.strong : images.mild,
             right: strongLeft ? images.mild : images.strong, boost: [], expected: strongLeft ? "left" : "right" };
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

  function zoom() {
    const current = page && page.current();
    return current && current.boost.includes("zoom") ? 2 : 1;
  }

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
    return study.showFit(needWidth, height + 150);
  }

  function stop() {
    if (flickerTimer) { clearInterval(flickerTimer); flickerTimer = null; }
  }

  async function draw(trial) {
    stop();
    stage.dataset.boost = trial.boost.join(",");
    const [pivot, left, right] = await Promise.all([load(trial.pivot), load(trial.left), load(trial.right)]);
    if (page.current() !== trial) return;
    const p = pixelsOf(pivot);
    let l = pixelsOf(left);
    let r = pixelsOf(right);
    if (trial.boost.includes("amplify")) { l = amplified(l, p); r = amplified(r, p); }
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
  }

  page = study.run({
    viewingHint: "Please look at all three images…",
    trainingTrial,
    draw,
    fits,
    stop,
    trainingFeedback: (trial, choice) => (choice === trial.expected ? "Training: as expected." :
      `Training: the ${trial.expected} image differed more from the original.`),
    answerBody: (trial, choice) => ({ choice }),
    fromNext: (t) => ({ pivot: t.pivot.url, left: t.left.url, right: t.right.url, boost: t.boost || [] }),
  });

  const KEYS = { ArrowLeft: "left", ArrowRight: "right", ArrowDown: "not_sure" };
  document.addEventListener("keydown", (event) => {
    if (page.isHidden() || event.repeat || !(event.key in KEYS)) return;
    event.preventDefault();
    page.answer(KEYS[event.key]);
  });
  for (const b of document.querySelectorAll("#answers button[data-choice]")) {
    b.addEventListener("click", () => page.answer(b.dataset.choice));
  }
})();

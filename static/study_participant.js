// Participant page of a pairwise or DSIS study (the session, training and answering live in study_session.js).
// Images are shown 1 image pixel = 1 device pixel (CSS size = pixels / devicePixelRatio); when the window
// cannot show them 1:1 the page says so and waits instead of scaling.
(function () {
  const study = window.licbenchStudy;
  const el = (id) => document.getElementById(id);
  const method = el("study").dataset.method;
  const stimuli = el("stimuli");
  const left = el("img-left");
  const right = el("img-right");
  const SHAPE = { size: 128, strokes: 14, margin: 20, spread: 90, radius: 6, radiusStep: 5 };

  let showingReference = false;

  function trainingTrial(index) {
    const images = study.trainingImages(index + 1, SHAPE);
    if (method === "pairwise") {
      const strongLeft = index % 2 === 0;
      return { kind: "pairwise", reference: images.original,
               left: strongLeft ? images.strong : images.mild, right: strongLeft ? images.mild : images.strong,
               expected: strongLeft ? "b" : "a" };
    }
    const test = [images.strong, images.mild, images.original][index % 3];
    const expected = [[1, 2], [3, 4], [4, 5]][index % 3];
    return { kind: "dsis", reference: images.original, left: images.original, right: test, expected };
  }

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
    return study.showFit(widths[0] + widths[1] + 32 + 48, height + 150);
  }

  async function draw(trial) {
    showingReference = false;
    captions();
    await Promise.all([loaded(left, trial.left), loaded(right, trial.right)]);
  }

  const page = study.run({
    viewingHint: "Please look at both images…",
    trainingTrial,
    draw,
    fits,
    trainingFeedback: (trial, value) => {
      const right_ = method === "pairwise" ? value === trial.expected : trial.expected.includes(value);
      if (right_) return "Training: as expected.";
      return method === "pairwise" ? "Training: the other image was closer to the original."
                                   : `Training: a score of ${trial.expected.join(" or ")} was expected.`;
    },
    answerBody: (trial, value) => (method === "pairwise" ? { choice: value } : { score: value }),
    fromNext: (t) => ({ kind: t.kind, reference: t.reference_url,
                        left: t.kind === "pairwise" ? t.a.url : t.reference_url,
                        right: t.kind === "pairwise" ? t.b.url : t.a.url }),
  });

  function flicker() {
    const current = page.current();
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

  document.addEventListener("keydown", (event) => {
    if (page.isHidden() || event.repeat) return;
    if (event.key === " " || event.code === "Space") { event.preventDefault(); flicker(); return; }
    if (method === "pairwise" && event.key === "ArrowLeft") { event.preventDefault(); page.answer("a"); }
    else if (method === "pairwise" && event.key === "ArrowRight") { event.preventDefault(); page.answer("b"); }
    else if (method === "dsis" && /^[1-5]$/.test(event.key)) { event.preventDefault(); page.answer(Number(event.key)); }
  });
  for (const b of document.querySelectorAll("#answers button[data-choice]")) {
    b.addEventListener("click", () => page.answer(b.dataset.choice));
  }
  for (const b of document.querySelectorAll("#answers button[data-score]")) {
    b.addEventListener("click", () => page.answer(Number(b.dataset.score)));
  }
  el("flicker").addEventListener("click", flicker);
})();

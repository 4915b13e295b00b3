// Upload page: drag and drop several files, POST them as one multipart request.
(function () {
  const form = document.getElementById("upload-form");
  const zone = document.getElementById("drop-zone");
  const input = document.getElementById("file-input");
  const list = document.getElementById("file-list");
  const error = document.getElementById("upload-error");
  let files = [];

  function show() {
    list.innerHTML = "";
    for (const f of files) {
      const li = document.createElement("li");
      li.textContent = `${f.name} (${Math.round(f.size / 1024)} KiB)`;
      list.appendChild(li);
    }
  }
  function add(newFiles) { files = files.concat(Array.from(newFiles)); show(); }

  input.addEventListener("change", () => add(input.files));
  ["dragenter", "dragover"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.add("over"); }));
  ["dragleave", "drop"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.remove("over"); }));
  zone.addEventListener("drop", (e) => add(e.dataTransfer.files));

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    if (document.getElementById("login-hint")) {  // logged out: say so, rather than the API's 401 about tokens
      error.innerHTML = 'Log in to upload: <a href="/login?next=/">log in</a>.';
      return;
    }
    if (!files.length) { error.textContent = "Choose or drop at least one image."; return; }
    const data = new FormData();
    data.append("name", document.getElementById("set-name").value);
    const visibility = document.getElementById("set-visibility");
    if (visibility) data.append("visibility", visibility.value);
    files.forEach((f) => data.append("files", f, f.name));
    const response = await fetch("/api/v1/image-sets", { method: "POST", body: data });
    const body = await response.json();
    if (response.status === 401) { error.innerHTML = 'Log in to upload: <a href="/login?next=/">log in</a>.'; return; }
    if (!response.ok) { error.textContent = body.detail || response.statusText; return; }
    window.location.href = `/image-sets/${body.id}`;
  });
})();

// The editor's live preview: the server renders the body exactly as the published page will.
(function () {
  "use strict";
  const script = document.currentScript;
  const form = document.getElementById("post-form");
  const body = document.getElementById("body");
  const pane = document.getElementById("live-preview");
  if (!form || !body || !pane || !script) return;
  const url = script.dataset.previewUrl;
  const token = form.querySelector("input[name=csrf_token]");
  let timer = null;
  let latest = 0;

  async function refresh() {
    const request = ++latest;
    const data = new FormData();
    data.append("body", body.value);
    if (token) data.append("csrf_token", token.value);
    try {
      const response = await fetch(url, { method: "POST", body: data, credentials: "same-origin" });
      if (!response.ok || request !== latest) return;
      // The server sanitised this HTML; it is the same markup the post page will show.
      pane.innerHTML = await response.text();
    } catch (error) {
      // Offline for a moment: the next keystroke tries again.
    }
  }

  body.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
  if (body.value && !pane.innerHTML.trim()) refresh();
})();

// The post editor's extras. The form works without them (it saves, previews and
// uploads on the server); this adds a toolbar and shortcuts, the live preview, word
// count, autosave, a copy of the words in the browser until the server has them, a
// warning before leaving unsaved work, and pasted or dropped images.
(function () {
  "use strict";
  const script = document.currentScript;
  const form = document.getElementById("post-form");
  const body = document.getElementById("body");
  if (!form || !body || !script) return;

  const $ = (id) => document.getElementById(id);
  const csrf = () => form.querySelector("input[name=csrf_token]")?.value || "";
  const pane = $("live-preview");
  const status = $("autosave-status");
  const AUTOSAVE_IDLE_MS = 1500; // after the last keystroke
  const AUTOSAVE_MAX_MS = 5000; // at the latest, while typing goes on
  const WORDS_PER_MINUTE = 230; // as blog/editing.py counts

  // ---- Editing text so that Ctrl+Z undoes it (execCommand keeps the undo stack).
  function replaceSelection(text, selectFrom, selectTo) {
    const start = body.selectionStart;
    body.focus();
    if (!document.execCommand("insertText", false, text)) {
      body.setRangeText(text, body.selectionStart, body.selectionEnd, "end");
      body.dispatchEvent(new Event("input", { bubbles: true }));
    }
    if (selectFrom !== undefined) body.setSelectionRange(start + selectFrom, start + selectTo);
  }

  function wrap(marker, placeholder) {
    const selected = body.value.slice(body.selectionStart, body.selectionEnd);
    const inner = selected || placeholder;
    replaceSelection(marker + inner + marker, marker.length, marker.length + inner.length);
  }

  function selectWholeLines() {
    const value = body.value;
    const start = value.lastIndexOf("\n", body.selectionStart - 1) + 1;
    let end = value.indexOf("\n", body.selectionEnd);
    if (end === -1 || (body.selectionEnd > body.selectionStart && value[body.selectionEnd - 1] === "\n")) {
      end = end === -1 ? value.length : body.selectionEnd - 1;
    }
    body.setSelectionRange(start, end);
    return value.slice(start, end);
  }

  function prefixLines(prefix, pattern) {
    const lines = selectWholeLines().split("\n");
    const all = lines.every((line) => pattern.test(line));
    const changed = lines.map((line) => (all ? line.replace(pattern, "") : prefix + line.replace(pattern, "")));
    const text = changed.join("\n");
    replaceSelection(text, text.length, text.length);
  }

  const actions = {
    bold: { label: "Bold", key: "Ctrl+B", run: () => wrap("**", "bold text") },
    italic: { label: "Italic", key: "Ctrl+I", run: () => wrap("_", "italic text") },
    link: {
      label: "Link",
      key: "Ctrl+K",
      run: () => {
        const text = body.value.slice(body.selectionStart, body.selectionEnd) || "link text";
        const url = "https://";
        replaceSelection(`[${text}](${url})`, text.length + 3, text.length + 3 + url.length);
      },
    },
    heading: { label: "Heading", key: "Ctrl+Shift+H", run: () => prefixLines("## ", /^#{1,6} /) },
    quote: { label: "Quote", key: "Ctrl+Shift+.", run: () => prefixLines("> ", /^> ?/) },
    code: {
      label: "Code",
      key: "Ctrl+E",
      run: () => {
        const selected = body.value.slice(body.selectionStart, body.selectionEnd);
        if (selected.includes("\n")) {
          const block = "```\n" + selected.replace(/\n$/, "") + "\n```\n";
          replaceSelection(block, 4, 4 + selected.replace(/\n$/, "").length);
        } else {
          wrap("`", "code");
        }
      },
    },
    image: { label: "Image", key: "Ctrl+Shift+G", run: () => chooseImage() },
  };

  function shortcutFor(event) {
    if (!(event.ctrlKey || event.metaKey) || event.altKey) return null;
    const key = event.key.toLowerCase();
    if (!event.shiftKey) return { b: "bold", i: "italic", k: "link", e: "code", s: "save" }[key] || null;
    if (event.code === "Period") return "quote";
    return { h: "heading", g: "image" }[key] || null;
  }

  const toolbar = $("editor-toolbar");
  if (toolbar) {
    for (const [name, action] of Object.entries(actions)) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "tool tool-" + name;
      button.textContent = action.label;
      button.title = `${action.label} (${action.key})`;
      button.setAttribute("aria-keyshortcuts", action.key.replace("Ctrl", "Control"));
      button.addEventListener("click", action.run);
      toolbar.append(button);
    }
    const focus = document.createElement("button");
    focus.type = "button";
    focus.className = "tool tool-focus";
    focus.textContent = "Focus";
    focus.title = "Hide everything but the writing (Esc to return)";
    focus.setAttribute("aria-pressed", "false");
    focus.addEventListener("click", () => setFocusMode(!document.body.classList.contains("focus-mode")));
    toolbar.append(focus);
    toolbar.hidden = false;

    function setFocusMode(on) {
      document.body.classList.toggle("focus-mode", on);
      focus.setAttribute("aria-pressed", String(on));
      try {
        localStorage.setItem("pressroom-focus-mode", on ? "1" : "");
      } catch (error) {
        // Private browsing: the mode lasts for this page only.
      }
      body.focus();
    }
    try {
      if (localStorage.getItem("pressroom-focus-mode")) setFocusMode(true);
    } catch (error) {
      // As above.
    }
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && document.body.classList.contains("focus-mode")) setFocusMode(false);
    });
  }

  body.addEventListener("keydown", (event) => {
    const name = shortcutFor(event);
    if (!name) return;
    event.preventDefault();
    if (name === "save") {
      // Ctrl+S keeps a draft a draft and updates a public post in place.
      form.requestSubmit(form.dataset.public === "true" ? form.elements.publish : form.elements.save_draft);
    } else {
      actions[name].run();
    }
  });

  // ---- Word count and reading time, counted as the server counts them.
  const counter = $("word-count");
  function countWords() {
    const text = body.value.replace(/\]\([^)]*\)/g, "]");
    const words = (text.match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu) || []).length;
    const minutes = words ? Math.ceil(words / WORDS_PER_MINUTE) : 0;
    counter.textContent = `${words.toLocaleString("en")} ${words === 1 ? "word" : "words"} · ${minutes} min read`;
  }

  // ---- Live preview, rendered by the server exactly as the published page.
  let previewTimer = null;
  let previewRequest = 0;
  async function refreshPreview() {
    const request = ++previewRequest;
    const data = new FormData();
    data.append("body", body.value);
    if (form.elements.table_of_contents && form.elements.table_of_contents.checked) data.append("table_of_contents", "y");
    data.append("csrf_token", csrf());
    try {
      const response = await fetch(script.dataset.previewUrl, { method: "POST", body: data, credentials: "same-origin" });
      // 422: a body the site will not render, and the reason, shown in its place.
      if (!(response.ok || response.status === 422) || request !== previewRequest) return;
      pane.innerHTML = await response.text(); // sanitised on the server, as on the post page
    } catch (error) {
      // Offline for a moment: the next keystroke tries again.
    }
  }

  // ---- Unsaved changes: autosave, and a warning before leaving.
  const fields = ["title", "body", "excerpt"].map((name) => form.elements[name]).filter(Boolean);
  const snapshot = () => fields.map((field) => field.value).join("\u0000");
  let savedSnapshot = form.dataset.dirty === "true" ? null : snapshot(); // what the server has
  let autosavedSnapshot = snapshot();
  let autosaveTimer = null;
  let firstUnsaved = 0;
  let submitting = false;
  let autosaving = null;

  const isDirty = () => snapshot() !== savedSnapshot;

  function autosaveData() {
    const data = new FormData();
    for (const field of fields) data.append(field.name, field.value);
    data.append("version", form.elements.version.value);
    data.append("csrf_token", csrf());
    return data;
  }

  // One alert box per kind of trouble, made on first use and updated after that.
  function showAlert(id, message, place) {
    let box = $(id);
    if (!box) {
      box = document.createElement("div");
      box.id = id;
      box.className = "flash flash-error";
      box.setAttribute("role", "alert");
      place(box);
    }
    box.textContent = message;
    return box;
  }

  const showConflict = (message) => showAlert("autosave-conflict", message, (box) => form.before(box));

  async function autosave() {
    clearTimeout(autosaveTimer);
    autosaveTimer = null;
    firstUnsaved = 0;
    const current = snapshot();
    if (current === autosavedSnapshot || submitting) return;
    if (autosaving) await autosaving;
    autosaving = (async () => {
      try {
        const response = await fetch(form.dataset.autosaveUrl, { method: "POST", body: autosaveData(), credentials: "same-origin" });
        const answer = await response.json();
        if (!response.ok) {
          status.textContent = answer.error || "Autosave failed; keep this page open and save.";
          return;
        }
        if (!answer.saved) return;
        autosavedSnapshot = current;
        if (answer.edit_url) becomeDraft(answer, current);
        if (snapshot() === current) backup.forget(); // the server has these words now
        status.textContent = `Autosaved at ${answer.saved_at}`;
        if (answer.conflict) showConflict(answer.conflict);
      } catch (error) {
        status.textContent = "Autosave failed (offline?); your text is still here.";
      } finally {
        autosaving = null;
      }
    })();
    await autosaving;
  }

  function becomeDraft(answer, current) {
    // The first autosave of a new post made it a draft: from now on, edit that draft.
    form.action = answer.edit_url;
    form.dataset.autosaveUrl = answer.autosave_url;
    form.elements.version.value = answer.version;
    form.elements.preview_page.setAttribute("formaction", answer.preview_page_url);
    history.replaceState(null, "", answer.edit_url);
    savedSnapshot = current;
    backup.forget();
    backup.key = backup.key.replace(/:new$/, `:${answer.post_id}`); // the post it is now
  }

  function scheduleAutosave() {
    const now = Date.now();
    firstUnsaved = firstUnsaved || now;
    clearTimeout(autosaveTimer);
    const wait = Math.max(0, Math.min(AUTOSAVE_IDLE_MS, firstUnsaved + AUTOSAVE_MAX_MS - now));
    autosaveTimer = setTimeout(autosave, wait);
  }

  function autosaveOnLeave() {
    if (submitting || snapshot() === autosavedSnapshot) return;
    // A fetch may not outlive the page; a beacon does.
    if (navigator.sendBeacon(form.dataset.autosaveUrl, autosaveData())) autosavedSnapshot = snapshot();
  }

  // ---- A copy in the browser (localStorage) of the words as they are typed, until the
  // server has them: what was typed before an autosave got through (offline, the server
  // down, the tab closed at once) is offered back when this post's editor opens again.
  const backup = {
    key: form.dataset.backupKey,
    timer: null,
    read() {
      try {
        return JSON.parse(localStorage.getItem(this.key));
      } catch (error) {
        return null; // storage off (private mode, a policy), or not our JSON
      }
    },
    write() {
      clearTimeout(this.timer);
      this.timer = null;
      const copy = { at: Date.now(), fields: Object.fromEntries(fields.map((field) => [field.name, field.value])) };
      try {
        localStorage.setItem(this.key, JSON.stringify(copy));
      } catch (error) {
        // Full or off: the server's autosave still runs.
      }
    },
    soon() {
      if (!this.timer) this.timer = setTimeout(() => this.write(), 200);
    },
    flush() {
      if (this.timer) this.write();
    },
    forget() {
      clearTimeout(this.timer);
      this.timer = null;
      try {
        localStorage.removeItem(this.key);
      } catch (error) {
        // nothing kept, nothing to remove
      }
    },
  };

  function offerBackup() {
    const copy = backup.read();
    if (!copy || !copy.fields) return;
    const differs = fields.some((field) => (copy.fields[field.name] ?? field.value) !== field.value);
    if (!differs) {
      // A page the server made from what it has (not a form sent back with an error):
      // it has these words, and the copy is no longer needed.
      if (form.dataset.fromServer === "true") backup.forget();
      return;
    }
    const box = document.createElement("div");
    box.className = "flash flash-info";
    box.id = "browser-backup";
    box.setAttribute("role", "status");
    const when = new Date(copy.at).toLocaleString();
    const text = document.createElement("p");
    text.textContent = `This browser kept words you typed on ${when} that never reached the server. Restore them in place of the text below?`;
    const restore = document.createElement("button");
    restore.type = "button";
    restore.className = "button primary";
    restore.textContent = "Restore them";
    const discard = document.createElement("button");
    discard.type = "button";
    discard.className = "button";
    discard.textContent = "Discard them";
    box.append(text, restore, " ", discard);
    form.before(box);
    restore.addEventListener("click", () => {
      for (const field of fields) {
        if (field.name in copy.fields) field.value = copy.fields[field.name];
      }
      box.remove();
      body.dispatchEvent(new Event("input", { bubbles: true })); // count, preview, autosave
      status.textContent = "Your words are back. They are not saved yet.";
      body.focus();
    });
    discard.addEventListener("click", () => {
      backup.forget();
      box.remove();
      status.textContent = "The browser's copy is discarded.";
    });
  }
  offerBackup();

  for (const field of fields) {
    field.addEventListener("input", () => {
      backup.soon();
      scheduleAutosave();
      if (field === body) {
        countWords();
        clearTimeout(previewTimer);
        previewTimer = setTimeout(refreshPreview, 300);
      }
    });
  }
  if (form.elements.table_of_contents) form.elements.table_of_contents.addEventListener("change", refreshPreview);
  form.addEventListener("submit", (event) => {
    if (event.submitter && event.submitter.formTarget === "_blank") return; // this page stays
    if (autosaving) {
      // Let a running autosave finish first: for a new post it decides where the form goes.
      event.preventDefault();
      const button = event.submitter;
      autosaving.then(() => form.requestSubmit(button));
      return;
    }
    submitting = true;
    clearTimeout(autosaveTimer);
  });
  window.addEventListener("pageshow", () => {
    submitting = false; // back from a preview tab, or from the bfcache
  });
  window.addEventListener("beforeunload", (event) => {
    if (submitting || !isDirty()) return;
    autosaveOnLeave();
    event.preventDefault();
    event.returnValue = ""; // older browsers need it to show their "leave site?" question
  });
  window.addEventListener("pagehide", () => {
    backup.flush();
    autosaveOnLeave();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") {
      backup.flush();
      autosaveOnLeave();
    }
  });

  // ---- Scheduling: "Publish" with a date to come schedules the post; say so.
  const date = form.elements.published_at;
  const publish = form.elements.publish;
  // The date is typed in the site's time zone, which may not be this browser's: both are
  // read as if UTC, against the site's clock as the page was sent, moved on since.
  const siteClockAhead = date && date.dataset.siteNow
    ? Date.parse(date.dataset.siteNow + "Z") - Date.now()
    : 0;
  function labelPublish() {
    const when = date.value ? Date.parse(date.value + "Z") : NaN;
    publish.value = when > Date.now() + siteClockAhead ? "Schedule" : "Publish";
  }
  if (date && publish) {
    date.addEventListener("input", labelPublish);
    labelPublish();
  }

  // ---- Images: the toolbar button, paste and drop. Alt text is asked for first.
  const dialog = $("alt-dialog");
  const altText = $("alt-dialog-text");
  const picker = document.createElement("input");
  picker.type = "file";
  picker.accept = "image/jpeg,image/png,image/gif,image/webp";
  picker.hidden = true;
  picker.id = "image-picker";
  picker.setAttribute("aria-label", "Choose an image to insert");
  form.after(picker);
  picker.addEventListener("change", () => {
    if (picker.files[0]) insertImage(picker.files[0]);
    picker.value = "";
  });

  // Enter in the alt text means "insert", not the dialog's first button (Cancel).
  altText.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    dialog.close("insert");
  });

  function chooseImage() {
    picker.click();
  }

  function askAltText(file) {
    return new Promise((resolve) => {
      $("alt-dialog-file").textContent = file.name || "Pasted image";
      altText.value = "";
      dialog.returnValue = "";
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "insert" ? altText.value.trim() : null), { once: true });
      dialog.showModal();
      altText.focus();
    });
  }

  async function insertImage(file) {
    const at = [body.selectionStart, body.selectionEnd];
    const alt = await askAltText(file);
    if (alt === null) return body.focus();
    status.textContent = `Uploading ${file.name || "the image"}…`;
    const data = new FormData();
    data.append("image", file, file.name || "pasted-image.png");
    data.append("alt_text", alt);
    data.append("csrf_token", csrf());
    let answer;
    try {
      const response = await fetch(form.dataset.uploadUrl, { method: "POST", body: data, credentials: "same-origin" });
      answer = response.headers.get("Content-Type")?.includes("json") ? await response.json() : {};
      if (!response.ok) {
        const reason = response.status === 413 ? "The file is too large (images up to 10 MB)." : answer.error;
        throw new Error(reason || `The upload failed (${response.status}).`);
      }
    } catch (error) {
      status.textContent = "";
      showUploadError(error.message);
      return;
    }
    body.setSelectionRange(at[0], at[1]);
    const before = at[0] > 0 && body.value[at[0] - 1] !== "\n" ? "\n\n" : "";
    replaceSelection(`${before}${answer.markdown}\n`);
    status.textContent = `Image added: ${answer.url}`;
  }

  function showUploadError(message) {
    const box = showAlert("upload-error", message, (box) => body.after(box));
    setTimeout(() => box.remove(), 15000);
  }

  const imageFiles = (list) => Array.from(list || []).filter((file) => file.type.startsWith("image/") || file.name.endsWith(".svg"));
  body.addEventListener("paste", (event) => {
    const files = imageFiles(event.clipboardData && event.clipboardData.files);
    if (!files.length) return;
    event.preventDefault();
    insertImage(files[0]);
  });
  body.addEventListener("dragover", (event) => {
    if (Array.from(event.dataTransfer.types).includes("Files")) event.preventDefault();
  });
  body.addEventListener("drop", (event) => {
    const files = imageFiles(event.dataTransfer.files);
    if (!files.length) return;
    event.preventDefault();
    insertImage(files[0]);
  });

  // ---- The Status help: what the chosen status means, and only that.
  const statusSelect = form.elements.status;
  const statusHint = statusSelect && statusSelect.closest(".field").querySelector(".hint");
  if (statusSelect && statusHint && statusSelect.dataset.help) {
    const help = JSON.parse(statusSelect.dataset.help);
    statusSelect.addEventListener("change", () => {
      statusHint.textContent = help[statusSelect.value] || "";
    });
  }

  // ---- Add category: made on the server and checked here, the post unsaved and kept.
  const adder = form.querySelector(".add-category");
  if (adder) {
    const nameInput = form.elements.new_category;
    const list = form.querySelector("ul.checkbox-list");
    async function addCategory(event) {
      event.preventDefault();
      const name = nameInput.value.trim();
      if (!name) {
        nameInput.focus();
        return;
      }
      const data = new FormData();
      data.append("name", name);
      data.append("csrf_token", csrf());
      let answer;
      try {
        const response = await fetch(adder.dataset.addUrl, { method: "POST", body: data, credentials: "same-origin" });
        answer = await response.json();
        if (!response.ok) throw new Error(answer.error || response.statusText);
      } catch (error) {
        status.textContent = `The category could not be added: ${error.message}`;
        return;
      }
      let box = list.querySelector(`input[value="${answer.id}"]`);
      if (!box) {
        const item = document.createElement("li");
        box = document.createElement("input");
        box.type = "checkbox";
        box.name = "categories";
        box.value = String(answer.id);
        box.id = `categories-new-${answer.id}`;
        const label = document.createElement("label");
        label.htmlFor = box.id;
        label.textContent = answer.name;
        item.append(box, " ", label);
        list.append(item);
      }
      box.checked = true;
      nameInput.value = "";
      status.textContent = answer.created ? `Category added: ${answer.name}` : `Category checked: ${answer.name}`;
    }
    form.elements.add_category.addEventListener("click", addCategory);
    nameInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter") addCategory(event); // not the form's first button
    });
  }

  if (body.value && pane && !pane.innerHTML.trim()) refreshPreview();
})();

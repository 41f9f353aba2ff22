// A "Copy" button on each code block of a post. Without JavaScript there is none, and
// the code is selected and copied as any other text.
(function () {
  "use strict";

  function copyBySelection(code) {
    // Where the Clipboard API is missing (a site served over plain http) or refused.
    const range = document.createRange();
    range.selectNodeContents(code);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    return document.execCommand("copy");
  }

  document.querySelectorAll(".post-body pre > code").forEach(function (code) {
    const pre = code.parentElement;
    const block = document.createElement("div");
    block.className = "code-block";
    pre.parentNode.insertBefore(block, pre);
    block.appendChild(pre);

    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy-code";
    button.textContent = "Copy";
    const status = document.createElement("span");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    block.append(button, status);

    let reset = null;
    function say(words) {
      button.textContent = words;
      status.textContent = words === "Copy" ? "" : words;
      clearTimeout(reset);
      if (words !== "Copy") reset = setTimeout(() => say("Copy"), 2000);
    }
    button.addEventListener("click", async function () {
      try {
        await navigator.clipboard.writeText(code.textContent);
        say("Copied");
      } catch (error) {
        say(copyBySelection(code) ? "Copied" : "Press Ctrl+C to copy");
      }
    });
  });
})();

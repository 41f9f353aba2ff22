// Forms marked data-confirm ask before they submit (delete buttons). Without
// JavaScript they submit at once, as any form does.
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
})();

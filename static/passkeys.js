// Passkeys (WebAuthn): add one on the profile, log in with one, or use one as the second
// step. Every button here is hidden until this script finds a browser that can do it;
// without JavaScript the site logs in with the password (and a code) as before.
(() => {
  "use strict";
  const able = window.PublicKeyCredential
    && PublicKeyCredential.parseCreationOptionsFromJSON
    && PublicKeyCredential.parseRequestOptionsFromJSON;

  const post = async (url, form, fields = {}) => {
    const data = new FormData();
    data.append("csrf_token", form.querySelector("input[name=csrf_token]")?.value || "");
    for (const [name, value] of Object.entries(fields)) data.append(name, value);
    const answer = await fetch(url, { method: "POST", body: data, credentials: "same-origin" });
    const body = await answer.json().catch(() => ({ error: `The site answered ${answer.status}.` }));
    if (!answer.ok) throw new Error(body.error || `The site answered ${answer.status}.`);
    return body;
  };

  const say = (form, text) => {
    const status = form.querySelector("[data-passkey-status]");
    if (status) status.textContent = text;
  };

  const failure = (error) => (error.name === "NotAllowedError"
    ? "No passkey was used (cancelled, or none of this site's is on this device)."
    : error.message);

  for (const form of document.querySelectorAll("form[data-passkey]")) {
    if (!able) continue;
    form.hidden = false;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const kind = form.dataset.passkey;
      try {
        say(form, "Waiting for your passkey…");
        const options = await post(form.dataset.optionsUrl, form);
        if (kind === "add") {
          const credential = await navigator.credentials.create({
            publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options),
          });
          const name = form.querySelector("input[name=name]")?.value || "";
          const added = await post(form.action, form, {
            credential: JSON.stringify(credential.toJSON()), name,
          });
          if (added.recovery_codes.length) {
            const list = form.querySelector("[data-recovery-codes]");
            list.replaceChildren(...added.recovery_codes.map((code) => {
              const item = document.createElement("li");
              item.append(Object.assign(document.createElement("code"), { textContent: code }));
              return item;
            }));
            list.closest("[hidden]")?.removeAttribute("hidden");
            say(form, `Passkey added: ${added.name}. Keep these recovery codes: they are shown only now.`);
          } else {
            say(form, `Passkey added: ${added.name}.`);
            window.location.reload();
          }
        } else {
          const credential = await navigator.credentials.get({
            publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options),
          });
          const done = await post(form.action, form, {
            credential: JSON.stringify(credential.toJSON()),
          });
          window.location.assign(done.redirect);
        }
      } catch (error) {
        say(form, failure(error));
      }
    });
  }
})();

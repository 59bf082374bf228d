// Unsaved edits of the Registries page. While the form differs from what was saved: leaving the page
// asks first, and the green "saved" banner is hidden (it is no longer true). The edits also go to the
// server a moment after each change (never a password), so that the page offers them back when they
// are lost anyway (a tab closed, a crash, a link followed after all).
(() => {
  const form = document.getElementById("registries-form");
  if (!form || !form.dataset.keepUnsaved) return;
  const KEEP_AFTER_MS = 800;

  // What the form holds, in order: each field by its name without the box's token, only when it holds
  // something. An added, still empty box changes nothing; a password counts as typed or not.
  function content() {
    const out = [];
    for (const el of form.elements) {
      if (!el.name || el.type === "hidden" || el.type === "submit" || el.type === "button") continue;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) continue;
      const field = el.name.replace(/^[a-z0-9]{1,16}-/, "");
      if (!el.value || (field === "auth" && el.value === "none")) continue;
      out.push(`${field}=${el.type === "password" ? "(typed)" : el.value}`);
    }
    return out.join("\n");
  }

  let saved = content();  // the page shows what is saved
  let sent = saved;  // what the server keeps now (nothing, as far as this page knows)
  let saving = false;
  let timer = null;
  const differs = () => content() !== saved;

  function keep({ leaving = false } = {}) {
    clearTimeout(timer);
    timer = null;
    const now = content();
    // While the page offers earlier unsaved edits, they stay as they are until restored or discarded.
    if (saving || now === sent || document.getElementById("unsaved-restore")) return;
    const data = new FormData(form);
    form.querySelectorAll("input[type=password]").forEach((input) => data.delete(input.name));
    const request = { method: "POST", body: data, credentials: "same-origin" };
    sent = now;
    const failed = () => { sent = null; };  // sent again with the next change
    const done = (response) => { if (!response.ok) failed(); };
    const plain = () => fetch(form.dataset.keepUnsaved, request).then(done, failed);
    // keepalive lets the request outlive the page, but browsers refuse it for bodies over 64 KiB.
    fetch(form.dataset.keepUnsaved, { ...request, keepalive: leaving }).then(done, leaving ? plain : failed);
  }

  function changed() {
    const unsaved = differs();
    form.classList.toggle("unsaved", unsaved);
    document.querySelectorAll(".messages .msg.success, #save-done").forEach((msg) => { msg.hidden = unsaved; });
    clearTimeout(timer);
    timer = setTimeout(keep, KEEP_AFTER_MS);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  document.body.addEventListener("regui:changed", changed);  // a box or row removed
  document.addEventListener("htmx:afterSettle", changed);  // added, duplicated, restored, applied from YAML

  // A save: nothing kept that the save clears anyway.
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (event.defaultPrevented) return;  // not sent after all (yaml-view.js)
    if (event.detail.elt === form) {
      saving = true;
      clearTimeout(timer);
    } else if (event.detail.boosted && differs() && !window.confirm("Leave the page? Your edits are not saved.")) {
      event.preventDefault();
    }
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.elt !== form) return;
    saving = false;
    // Saved: the form now shows the saved boxes (swapped in, no reload), what later edits differ from;
    // the server has dropped the edits it kept. Refused: the edits are still unsaved.
    if (event.detail.xhr?.getResponseHeader("X-Regui-Saved")) sent = saved = content();
    changed();
  });

  window.addEventListener("beforeunload", (event) => {
    if (saving || !differs()) return;
    keep({ leaving: true });
    event.preventDefault();
    event.returnValue = "";  // older browsers ask only when this is set
  });
  window.addEventListener("pagehide", () => { if (timer) keep({ leaving: true }); });
})();

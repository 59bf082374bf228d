// The page behaviour that used to be inline handlers (hx-on, onclick): the Content-Security-Policy
// allows scripts from these files only, and htmx is told not to eval (htmx-config in base.html).
// Handlers are delegated from the document, so parts htmx swaps in work without setup.

// Remove buttons of the Registries form: remove the box or row, and tell the preview.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-remove]");
  if (!button) return;
  button.closest(button.dataset.remove)?.remove();
  htmx.trigger(document.body, "regui:changed");
});

// A config box shows the fields of the authentication chosen in its select (CSS reads data-auth).
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-box-auth]");
  if (select) select.closest(".box").dataset.auth = select.value;
});

// "Back" from a preview to the page it came from (the import's paste form): the browser's own back,
// which gives the form back as it was filled in. The pasted file is not sent back by the server (it
// holds credentials); opened on its own (no such page behind it), the link just opens the form.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-back]");
  if (!link || !document.referrer) return;
  if (new URL(document.referrer).pathname !== new URL(link.href).pathname) return;
  event.preventDefault();
  history.back();
});

// Lint findings link to their field: focus it too.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-focus]");
  if (link) document.getElementById(link.dataset.focus)?.focus();
});

// History rows: a click (not on a link) opens the entry's changes below the row; a second closes them.
document.addEventListener("htmx:beforeRequest", (event) => {
  const row = event.detail.elt;
  if (!(row instanceof Element) || !row.matches("tr[data-toggles-changes]")) return;
  const trigger = event.detail.requestConfig?.triggeringEvent;
  if (trigger?.target instanceof Element && trigger.target.closest("a")) {
    event.preventDefault();  // the link navigates; the row stays as it is
    return;
  }
  const changes = document.getElementById(`${row.id}-changes`);
  if (changes.childElementCount) {
    changes.replaceChildren();
    row.classList.remove("open");
    event.preventDefault();
  } else {
    row.classList.add("open");
  }
});

// A request replaced by a newer one (hx-sync "this:replace": the Registries preview and insight as one
// types, the History filters) is aborted on purpose, so its stale answer never lands. htmx 2 still
// reports every aborted request with console.error ("htmx:afterRequest, …", "htmx:sendAbort, …"), before
// any listener of those events runs, and has no setting against it. What it logs is the event's
// `error`, which the request's own detail overrides: so the detail of the request about to be replaced
// is cleared of one here. Only aborts htmx:abort asks for are quiet; a failed send, a timeout or an
// error answer still log.
const lockHolder = (elt) => {  // where htmx keeps a request's lock: its "this" hx-sync element, or itself
  const sync = elt.closest("[hx-sync], [data-hx-sync]");
  const value = sync?.getAttribute("hx-sync") ?? sync?.getAttribute("data-hx-sync");
  return value?.trim().startsWith("this") ? sync : elt;
};
const sent = new WeakMap();  // lock holder -> detail of its latest request
document.addEventListener("htmx:beforeSend", (event) => {
  if (event.detail.elt instanceof Element) sent.set(lockHolder(event.detail.elt), event.detail);
});
document.addEventListener("htmx:abort", (event) => {
  const detail = sent.get(event.detail?.elt ?? event.target);
  if (detail) detail.error = null;
}, true);  // capture: before htmx's own listener on <body> aborts the request

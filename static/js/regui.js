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

// An htmx answer that is not swapped in is shown, never dropped silently. base.html's htmx-config swaps
// a refusal that carries its form or message (400, 409, 413, 422); what is left is a 403 (a role that
// changed since the page was shown, a stale CSRF token), a 404, a 5xx, an empty or plain-text refusal,
// a whole error page, the login page of an ended session, or no answer at all: each becomes one short
// sentence in #request-alert (base.html), the latest replacing the one before.
const STATUS_SENTENCES = {
  403: "Not allowed (403). Your role may have changed since this page was shown: reload it.",
  404: "Not found (404): what this page refers to may have been removed. Reload the page.",
  413: "Refused (413): the form is too big to send.",
  429: "Refused (429): too many attempts; wait a little and try again.",
};
const showRequestAlert = (text, kind) => {
  const box = document.getElementById("request-alert");
  if (!box) return;
  box.querySelector("[data-alert-text]").textContent = text;
  box.dataset.kind = kind;
  box.hidden = false;
};
const answerSentence = (xhr) => {  // the refusal's own words: a plain-text body, or an error page's [data-refusal]
  const type = xhr.getResponseHeader("Content-Type") || "";
  const body = typeof xhr.response === "string" ? xhr.response.trim() : "";
  if (!body) return "";
  if (type.startsWith("text/plain")) return body.slice(0, 300);
  if (!type.startsWith("text/html")) return "";
  const found = new DOMParser().parseFromString(body, "text/html").querySelector("[data-refusal]");
  return found ? found.textContent.trim().slice(0, 300) : "";
};
const isWholePage = (text) => /^\s*(<!doctype|<html)/i.test(text);
const isLoginPage = (xhr) => {  // an ended session: the request was sent on to the login page
  const login = document.body.dataset.loginUrl;
  if (!login || !xhr.responseURL) return false;
  return new URL(xhr.responseURL).pathname === new URL(login, location.href).pathname
    && new URL(xhr.responseURL).pathname !== location.pathname;
};
document.addEventListener("htmx:beforeSwap", (event) => {
  const detail = event.detail;
  const xhr = detail.xhr;
  if (isLoginPage(xhr)) {
    detail.shouldSwap = false;
    detail.isError = true;
    showRequestAlert("Your session has ended: reload the page to log in again.", "session");
    return;
  }
  if (!detail.isError) {
    const box = document.getElementById("request-alert");
    if (box?.dataset.kind === "network") box.hidden = true;  // the server answers again
    return;
  }
  const body = typeof detail.serverResponse === "string" ? detail.serverResponse.trim() : "";
  const html = (xhr.getResponseHeader("Content-Type") || "").startsWith("text/html");
  if (detail.shouldSwap && html && body && !isWholePage(body)) return;  // the refusal is shown where it was asked for
  detail.shouldSwap = false;
  const status = xhr.status;
  const own = status < 500 ? answerSentence(xhr) : "";
  let text = `Refused (${status}). Reload the page and try again.`;
  if (status >= 500) {
    text = `The server could not finish this (${status}). Nothing was half-saved: try again, and if it goes on, the server log says why.`;
  } else if (status === 403 && own) {
    text = `Not allowed (403): ${own} Reload the page to see what your role allows.`;
  } else if (own) {
    text = `Refused (${status}): ${own}`;
  } else if (STATUS_SENTENCES[status]) {
    text = STATUS_SENTENCES[status];
  }
  showRequestAlert(text, "refused");
});
const unreachable = () => showRequestAlert(
  "No answer from regui: the server or the network is down. This page retries what it polls.", "network");
document.addEventListener("htmx:sendError", unreachable);
document.addEventListener("htmx:timeout", unreachable);
document.addEventListener("click", (event) => {
  const close = event.target.closest("[data-alert-close]");
  if (close) close.closest(".request-alert").hidden = true;
});

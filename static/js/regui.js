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

// After a failed save, where the person looks: the first field with an error is scrolled to and
// focused, the Save button says how many fields need attention, and a green "saved" banner from
// before goes (it is no longer true). The count follows the preview's checks as fields are fixed.
// After a save, the page stays as it was left: the saved boxes come in place of the form's (with new
// tokens, so the browser cannot keep their state itself) and each "Files already on the nodes" stays
// open or closed as it was, found again by its registry's hostname.
(() => {
  const form = document.getElementById("registries-form");
  if (!form) return;
  const OPENABLE = ".config-box details.node-paths";
  let wasOpen = new Map();  // hostname: open

  const hostnameOf = (details) =>
    details.closest(".config-box")?.querySelector("input[id$='-hostname']")?.value.trim() ?? "";

  const marked = () => [...form.querySelectorAll(".field-error[id^='err-']")].filter((slot) => slot.textContent.trim());

  function count() {
    const attention = document.getElementById("save-attention");
    if (!attention) return;
    const n = marked().length;
    attention.textContent = n ? `${n} field${n === 1 ? " needs" : "s need"} attention` : "";
  }

  function focusFirstError() {
    const slot = marked()[0];
    const field = slot && document.getElementById(slot.id.slice("err-".length));
    const target = field || document.getElementById("save-summary");
    if (!target) return;
    document.dispatchEvent(new CustomEvent("regui:show-form"));  // out of the YAML view
    target.closest("details")?.setAttribute("open", "");
    if (!field) target.setAttribute("tabindex", "-1");
    target.scrollIntoView({ block: "center" });
    target.focus({ preventScroll: true });
  }

  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.requestConfig?.elt !== form) return;
    wasOpen = new Map([...form.querySelectorAll(OPENABLE)].map((details) => [hostnameOf(details), details.open]));
  });

  function reopen() {
    form.querySelectorAll(OPENABLE).forEach((details) => {
      const open = wasOpen.get(hostnameOf(details));
      if (open !== undefined) details.open = open;
    });
  }

  // field-errors.js (loaded first) has written the messages beside their fields by now.
  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (target.id === "save-result") {  // saved (#save-done), or why nothing was
      document.querySelectorAll(".messages .msg.success").forEach((msg) => msg.remove());
      count();
      if (target.querySelector("#save-done")) reopen();
      else focusFirstError();
    } else if (target.id === "preview") {
      count();
    }
  });
  count();  // a page drawn with errors (stored problems, a save posted without this script)
})();

// After a failed save, where the person looks: the first field with an error is scrolled to and
// focused, the Save button says how many fields need attention, and a green "saved" banner from
// before goes (it is no longer true). The count follows the preview's checks as fields are fixed.
(() => {
  const form = document.getElementById("registries-form");
  if (!form) return;

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

  // field-errors.js (loaded first) has written the messages beside their fields by now.
  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (target.id === "save-result") {  // a save answers here only when nothing was saved
      document.querySelectorAll(".messages .msg.success").forEach((msg) => msg.remove());
      count();
      focusFirstError();
    } else if (target.id === "preview") {
      count();
    }
  });
  count();  // a page drawn with errors (stored problems, a save posted without this script)
})();

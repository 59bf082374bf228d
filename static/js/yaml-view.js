// Edit as YAML: the Registries editor's Form and YAML views. Opening the YAML view fills the text from
// the form (unless it holds edits not applied yet); applying it swaps the form's boxes, and passwords
// typed in the form stay where the server says a marker stands for them (they never go back to it).
(() => {
  const editor = document.getElementById("editor");
  if (!editor) return;
  let edited = false;  // the text holds edits not applied to the form
  let typed = {};

  function show(view) {
    editor.classList.toggle("yaml-view", view === "yaml");
    document.getElementById("yaml-editor").hidden = view !== "yaml";
    editor.querySelectorAll(".editor-tabs [data-editor-view]").forEach((tab) => {
      const on = tab.dataset.editorView === view;
      tab.classList.toggle("active", on);
      tab.setAttribute("aria-selected", String(on));
    });
  }

  function say(text) {
    const msg = Object.assign(document.createElement("div"), { className: "msg warning", textContent: text });
    document.getElementById("yaml-result").replaceChildren(msg);
  }

  document.addEventListener("click", (event) => {
    const tab = event.target.closest?.(".editor-tabs [data-editor-view]");
    if (tab) show(tab.dataset.editorView);
  });
  document.addEventListener("regui:show-form", () => show("form"));
  document.addEventListener("input", (event) => { if (event.target.id === "yaml-text") edited = true; });

  document.addEventListener("htmx:beforeRequest", (event) => {
    const elt = event.detail.elt;
    if (edited && elt.matches?.(".editor-tabs [data-editor-view=yaml]")) {
      event.preventDefault();  // the text keeps its edits
    } else if (edited && elt.id === "registries-form") {
      event.preventDefault();
      show("yaml");
      say("Apply the YAML to the form first, or start again from the form: Save saves the form.");
    }
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const elt = event.detail.elt;
    if (event.detail.successful && (elt.matches?.(".editor-tabs [data-editor-view=yaml]") || elt.id === "yaml-reset")) {
      edited = false;
    } else if (elt.id === "registries-form" && event.detail.xhr?.getResponseHeader("X-Regui-Saved")
               && editor.classList.contains("yaml-view")) {
      // Saved from the YAML view (its text was applied: Save refuses otherwise), which stays open: its
      // text follows the saved form, where a secret created by the save now stands by its name.
      htmx.trigger("#yaml-reset", "click");
    }
  });

  // Text not applied yet is in no form: leaving the page would lose it without a word.
  window.addEventListener("beforeunload", (event) => {
    if (!edited) return;
    event.preventDefault();
    event.returnValue = "";
  });

  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.requestConfig?.elt?.id !== "yaml-form") return;
    typed = {};
    document.querySelectorAll("#registries-form input[type=password]").forEach((input) => {
      if (input.value) typed[input.id] = input.value;
    });
  });
  document.addEventListener("htmx:afterSettle", (event) => {
    if (event.detail.requestConfig?.elt?.id !== "yaml-form") return;
    document.querySelectorAll("#registries-form input[data-keep-typed]").forEach((input) => {
      input.value = typed[input.id] ?? "";
      input.removeAttribute("data-keep-typed");
    });
    typed = {};
    if (document.getElementById("yaml-applied")) edited = false;
  });
})();

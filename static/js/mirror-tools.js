// Mirror boxes: several endpoints pasted (or typed, then left) in one endpoint field become a row
// each, split by the server as a form posted without this script is; a duplicated box gets focus.
(() => {
  const form = document.getElementById("registries-form");
  if (!form || !form.dataset.endpointRows) return;
  const SEVERAL = /[\s,]/;

  function split(input, text) {
    htmx.ajax("POST", form.dataset.endpointRows, {
      source: input, target: input.closest(".endpoint-row"), swap: "outerHTML",
      values: { parent: input.dataset.endpointOf, text },
    }).then(() => htmx.trigger(document.body, "regui:changed"));
  }

  document.addEventListener("paste", (event) => {
    const input = event.target.closest?.("input[data-endpoint-of]");
    const pasted = event.clipboardData?.getData("text") ?? "";
    if (!input || !SEVERAL.test(pasted.trim())) return;  // one endpoint: pasted as usual
    event.preventDefault();
    split(input, input.value.slice(0, input.selectionStart) + pasted + input.value.slice(input.selectionEnd));
  });

  document.addEventListener("change", (event) => {
    const input = event.target.closest?.("input[data-endpoint-of]");
    if (input && SEVERAL.test(input.value.trim())) split(input, input.value);
  });

  document.addEventListener("htmx:afterSettle", () => {
    const box = document.querySelector(".mirror-box[data-duplicated]");
    if (!box) return;
    box.removeAttribute("data-duplicated");
    box.scrollIntoView({ block: "nearest" });
    box.querySelector("input[id$='-hostname']")?.focus();
  });
})();

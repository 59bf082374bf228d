// Previews and failed saves send the form's field errors as JSON; write each beside its field and
// clear the rest, so the inputs themselves are never replaced (typed passwords stay typed).
document.addEventListener("htmx:afterSwap", (event) => {
  const data = event.detail.target.querySelector("script[id^='field-errors']");
  if (!data) return;
  const errors = JSON.parse(data.textContent);
  document.querySelectorAll("#registries-form .field-error[id^='err-']").forEach((slot) => {
    const messages = errors[slot.id.slice(4)] || [];
    slot.replaceChildren(...messages.map((text) => Object.assign(document.createElement("span"), { textContent: text })));
  });
});

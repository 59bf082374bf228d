// "Add from a recipe" (templates/registries/partials/_recipes.html, regui/registries/recipes.py):
// open the dialog, show the fields of the chosen recipe, and once the server's boxes are in the
// form, copy the typed password into the boxes that create a secret. The password input has no
// name, so it never goes to the recipe URL; it goes with the form when the person saves.

document.addEventListener("click", (event) => {
  const opener = event.target.closest("[data-recipe-open]");
  if (opener) {
    const dialog = document.getElementById(opener.dataset.recipeOpen);
    dialog?.querySelector("#recipe-result")?.replaceChildren();  // what the last use said
    dialog?.showModal();
    return;
  }
  event.target.closest("[data-recipe-close]")?.closest("dialog")?.close();
});

document.addEventListener("change", (event) => {
  const kind = event.target.closest("select[data-recipe-kind]");
  if (kind) kind.closest("dialog").dataset.recipe = kind.value;
  const auth = event.target.closest("select[data-recipe-auth]");
  if (auth) auth.closest("dialog").dataset.auth = auth.value;
});

document.addEventListener("htmx:afterSettle", (event) => {
  if (event.detail.target?.id !== "recipe-result") return;
  const added = document.getElementById("recipe-added");
  if (!added) return;  // errors: the dialog stays open to fix them
  const dialog = added.closest("dialog");
  const password = dialog.querySelector("[data-recipe-password]");
  for (const token of added.dataset.passwordBoxes.split(" ").filter(Boolean)) {
    const input = document.getElementById(`${token}-password`);
    if (input) input.value = password.value;
  }
  password.value = "";
  dialog.close();
  htmx.trigger(document.body, "regui:changed");  // the preview and the insight tabs follow
});

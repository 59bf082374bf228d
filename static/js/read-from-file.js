// "Read from File": put a chosen PEM file's text into its textarea, in the browser only.
document.addEventListener("change", (event) => {
  const input = event.target;
  if (!input.matches("input[type=file][data-read-into]") || !input.files.length) return;
  const target = document.getElementById(input.dataset.readInto);
  input.files[0].text().then((text) => { target.value = text; });
});

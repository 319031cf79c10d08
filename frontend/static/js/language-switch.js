// Submit the language form as soon as a language is chosen. A file, not an inline
// onchange attribute, so that a Content-Security-Policy without 'unsafe-inline' allows it.
document.addEventListener("DOMContentLoaded", () => {
  for (const select of document.querySelectorAll(".language-switch select")) {
    select.addEventListener("change", () => select.form.submit());
  }
});
